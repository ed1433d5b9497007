package dev.ldm4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ldm4j.Fixtures;
import dev.ldm4j.nn.Tensors;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsFileTest {
    @TempDir
    Path dir;

    // ------------------------------------------------------------------ broken files: one clear message each

    @Test
    void missingFile() {
        assertFails(dir.resolve("nope.safetensors"), "no such file");
    }

    @Test
    void directory() {
        assertFails(dir, "is a directory");
    }

    @Test
    void shorterThanEightBytes() throws IOException {
        Path p = write("short.safetensors", new byte[] {1, 2, 3, 4, 5});
        assertFails(p, "not a safetensors file", "only 5 bytes");
        assertFails(write("empty.safetensors", new byte[0]), "not a safetensors file", "only 0 bytes");
    }

    @Test
    void randomBytes() throws IOException {
        byte[] junk = new byte[4096];
        new Random(1).nextBytes(junk);
        junk[7] = (byte) 0x7f; // a huge positive little-endian length
        assertFails(write("random.safetensors", junk), "not a safetensors file", "header length");
    }

    @Test
    void pngImage() throws IOException {
        Path png = dir.resolve("image.png");
        Images.writePng(png, new RgbImage(2, 2, new byte[12]));
        Path p = Files.copy(png, dir.resolve("image.safetensors"));
        assertFails(p, "not a safetensors file", "PNG image");
    }

    @Test
    void textFile() throws IOException {
        Path p = write("notes.safetensors", "hello, this is just a text file\n".getBytes(StandardCharsets.UTF_8));
        assertFails(p, "not a safetensors file", "text \"hello, t\"");
    }

    @Test
    void pytorchCheckpointZip() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            zip.putNextEntry(new ZipEntry("archive/data.pkl"));
            zip.write(new byte[] {(byte) 0x80, 2, '}', '.'});
            zip.closeEntry();
        }
        // read as a PyTorch checkpoint, which stores its entries uncompressed; this one was deflated
        assertFails(write("model.safetensors", bytes.toByteArray()), "PyTorch ZIP checkpoint",
                "'archive/data.pkl' is compressed");
    }

    @Test
    void headerLongerThanFile() throws IOException {
        byte[] header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}".getBytes(StandardCharsets.UTF_8);
        // a complete file cut in the middle of its header
        byte[] full = file(header, new byte[4]);
        Path p = write("cut.safetensors", Arrays.copyOf(full, 30));
        assertFails(p, "truncated", "header of " + header.length + " bytes", "only 30 bytes");
    }

    @Test
    void headerNotJson() throws IOException {
        assertFails(write("a.safetensors", file("{this is not json}   ", new byte[0])), "not valid JSON");
        assertFails(write("b.safetensors", file("[1, 2, 3]", new byte[0])), "not a JSON object");
        assertFails(write("c.safetensors", file("{\"a\": 1} trailing", new byte[0])), "not valid JSON");
        byte[] notUtf8 = {'{', '"', (byte) 0xff, (byte) 0xfe, '"', ':', '1', '}'};
        assertFails(write("d.safetensors", file(notUtf8, new byte[0])), "not UTF-8");
    }

    @Test
    void duplicateTensorName() throws IOException {
        String h = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}";
        assertFails(write("dup.safetensors", file(h, new byte[8])), "not valid JSON", "Duplicate field 'a'");
    }

    @Test
    void unknownDtype() throws IOException {
        String h = "{\"w\":{\"dtype\":\"F8_E4M3\",\"shape\":[4],\"data_offsets\":[0,4]}}";
        assertFails(write("dtype.safetensors", file(h, new byte[4])), "tensor 'w'", "unknown dtype \"F8_E4M3\"");
        String numeric = "{\"w\":{\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]}}";
        assertFails(write("dtype2.safetensors", file(numeric, new byte[4])), "tensor 'w'", "unknown dtype 4");
    }

    @Test
    void shapeAndSizeMismatch() throws IOException {
        String h = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,12]}}";
        assertFails(write("mismatch.safetensors", file(h, new byte[12])), "tensor 'w'", "[2, 2]",
                "needs 16 bytes", "span 12");
    }

    @Test
    void offsetsOutOfRange() throws IOException {
        String h = "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}";
        assertFails(write("truncated.safetensors", file(h, new byte[10])), "tensor 'w'", "out of range",
                "only 10 bytes", "truncated");
    }

    @Test
    void malformedOffsets() throws IOException {
        String reversed = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}";
        assertFails(write("rev.safetensors", file(reversed, new byte[8])), "tensor 'w'", "malformed data_offsets");
        String text = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[\"0\",4]}}";
        assertFails(write("txt.safetensors", file(text, new byte[8])), "tensor 'w'", "malformed data_offsets");
        String missing = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}";
        assertFails(write("miss.safetensors", file(missing, new byte[8])), "tensor 'w'", "lacks");
    }

    @Test
    void overlappingOffsets() throws IOException {
        String h = "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,24]}}";
        assertFails(write("overlap.safetensors", file(h, new byte[24])), "'a'", "'b'", "overlap");
    }

    @Test
    void overlapBehindAnEmptyTensor() throws IOException {
        // an empty tensor sorted between two overlapping ones must not hide the overlap
        String h = "{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"z\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4]},"
                + "\"y\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[6,10]}}";
        assertFails(write("hidden.safetensors", file(h, new byte[12])), "'x'", "'y'", "overlap");
    }

    @Test
    void negativeAndNonIntegerDimensions() throws IOException {
        String neg = "{\"w\":{\"dtype\":\"F32\",\"shape\":[-1,4],\"data_offsets\":[0,16]}}";
        assertFails(write("neg.safetensors", file(neg, new byte[16])), "tensor 'w'", "negative dimension -1");
        String frac = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}";
        assertFails(write("frac.safetensors", file(frac, new byte[8])), "tensor 'w'", "malformed shape");
        String huge = "{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}}";
        assertFails(write("huge.safetensors", file(huge, new byte[8])), "tensor 'w'", "too large");
    }

    @Test
    void metadataMustBeAnObject() throws IOException {
        String h = "{\"__metadata__\":[1,2]}";
        assertFails(write("meta.safetensors", file(h, new byte[0])), "__metadata__");
    }

    @Test
    void missingTensorAndClosedFile() throws IOException {
        Path p = write("ok.safetensors", file("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}",
                new byte[] {7}));
        SafetensorsFile f = SafetensorsFile.open(p);
        ModelFileException e = assertThrows(ModelFileException.class, () -> f.info("b"));
        assertTrue(e.getMessage().contains(p.toString()) && e.getMessage().contains("no tensor named 'b'"));
        f.close();
        IllegalStateException closed = assertThrows(IllegalStateException.class, () -> f.bytes("a"));
        assertTrue(closed.getMessage().contains("closed"), closed.getMessage());
    }

    // ------------------------------------------------------------------ reading what the files hold

    @Test
    void readsEveryDtypeAndScalars() throws IOException {
        ByteBuffer data = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
        data.putFloat(1.5f).putFloat(-2f).putFloat(0f).putFloat(1e-8f).putFloat(3e38f).putFloat(-0.25f); // 0..24
        data.putLong(-5L).putLong(1L << 40);                                                              // 24..40
        data.putFloat(2.5f);                                                                              // 40..44
        data.putShort((short) 0x3C00).putShort((short) 0xC000).putShort((short) 0x3555);                  // 44..50
        data.putShort((short) 0x3F80).putShort((short) 0x4049);                                           // 50..54
        String h = "{\"__metadata__\":{\"format\":\"pt\",\"note\":\"é\"},"
                + "\"f32\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
                + "\"i64\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[24,40]},"
                + "\"scalar\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[40,44]},"
                + "\"f16\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[44,50]},"
                + "\"bf16\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[50,54]},"
                + "\"empty\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[54,54]}}    ";
        Path p = write("all.safetensors", file(h, Arrays.copyOf(data.array(), 54)));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(List.of("f32", "i64", "scalar", "f16", "bf16", "empty"), List.copyOf(f.keys()));
            assertEquals(Map.of("format", "pt", "note", "é"), f.metadata());

            Tensor f32 = Tensors.read(f, "f32");
            assertEquals(ScalarType.Float, f32.scalar_type().intern());
            assertArrayEquals(new long[] {2, 3}, Tensors.shape(f32));
            assertArrayEquals(new float[] {1.5f, -2f, 0f, 1e-8f, 3e38f, -0.25f}, Tensors.toFloats(f32));

            Tensor i64 = Tensors.read(f, "i64");
            assertEquals(ScalarType.Long, i64.scalar_type().intern());
            assertArrayEquals(new long[] {-5, 1L << 40}, Tensors.toLongs(i64));

            Tensor scalar = Tensors.read(f, "scalar");
            assertEquals(0, scalar.dim());
            assertEquals(1, f.info("scalar").numel());
            assertArrayEquals(new float[] {2.5f}, Tensors.toFloats(scalar));

            Tensor f16 = Tensors.read(f, "f16");
            assertEquals(ScalarType.Half, f16.scalar_type().intern());
            // 0x3555 is the half closest to 1/3: 1 + 341/1024 times 2^-2
            assertArrayEquals(new float[] {1f, -2f, (1f + 341f / 1024f) / 4f}, Tensors.toFloats(f16));

            Tensor bf16 = Tensors.read(f, "bf16");
            assertEquals(ScalarType.BFloat16, bf16.scalar_type().intern());
            assertArrayEquals(new float[] {1f, 3.140625f}, Tensors.toFloats(bf16));

            Tensor empty = Tensors.read(f, "empty");
            assertArrayEquals(new long[] {0, 3}, Tensors.shape(empty));
        }
    }

    @Test
    void sd1FixtureF32AndI64() {
        try (SafetensorsFile f = Fixtures.open("sd1-tiny/model.safetensors")) {
            TensorInfo ids = f.info("cond_stage_model.transformer.text_model.embeddings.position_ids");
            assertEquals(DType.I64, ids.dtype());
            long[] expected = new long[77];
            Arrays.setAll(expected, i -> i);
            assertArrayEquals(expected, Tensors.toLongs(Tensors.read(f, ids.name())));
            assertArrayEquals(new long[] {1, 77}, Tensors.shape(Tensors.read(f, ids.name())));

            // alphas_cumprod of the linear schedule, computed here in float64 and rounded once to float32
            float[] ac = Tensors.toFloats(Tensors.read(f, "alphas_cumprod"));
            assertEquals(1000, ac.length);
            double lo = Math.sqrt(0.00085);
            double hi = Math.sqrt(0.012);
            double prod = 1;
            for (int i = 0; i < 1000; i++) {
                double s = i == 999 ? hi : lo + i * (hi - lo) / 999;
                prod *= 1 - s * s;
                assertEquals((float) prod, ac[i], Math.ulp((float) prod), "alphas_cumprod[" + i + "]");
            }
        }
    }

    @Test
    void sd2FixtureF16AndScalar() {
        try (SafetensorsFile f = Fixtures.open("sd2-tiny/model.safetensors")) {
            TensorInfo scale = f.info("cond_stage_model.model.logit_scale");
            assertEquals(0, scale.shape().length);
            assertEquals(0, Tensors.read(f, scale.name()).dim());
            TensorInfo conv = f.info("model.diffusion_model.input_blocks.0.0.weight");
            assertEquals(DType.F16, conv.dtype());
            assertArrayEquals(new long[] {32, 4, 3, 3}, conv.shape());
            assertEquals(DType.F32, f.info("alphas_cumprod").dtype());
            float[] w = Tensors.toFloats(Tensors.read(f, conv.name()));
            for (float v : w) {
                assertTrue(Float.isFinite(v) && v != 0 && Math.abs(v) < 10, "implausible F16 weight " + v);
            }
        }
    }

    @Test
    void f16FixtureHoldsTheRoundedF32Values() {
        // sd1-tiny-inpaint stores the same VAE as sd1-tiny, rounded to F16: reading both must agree exactly
        try (SafetensorsFile f32 = Fixtures.open("sd1-tiny/model.safetensors");
             SafetensorsFile f16 = Fixtures.open("sd1-tiny-inpaint/model.safetensors")) {
            int checked = 0;
            for (String key : f32.keys()) {
                if (!key.startsWith("first_stage_model.") || !f16.has(key)) {
                    continue;
                }
                assertEquals(DType.F16, f16.info(key).dtype(), key);
                Tensor expected = Tensors.read(f32, key).to(ScalarType.Half).to(ScalarType.Float);
                assertArrayEquals(Tensors.toFloats(expected), Tensors.toFloats(Tensors.read(f16, key)), key);
                checked++;
            }
            assertTrue(checked > 20, "only " + checked + " VAE tensors compared");
        }
    }

    // ------------------------------------------------------------------ helpers

    private static void assertFails(Path p, String... fragments) {
        ModelFileException e = assertThrows(ModelFileException.class, () -> SafetensorsFile.open(p).close());
        String m = e.getMessage();
        assertTrue(m.contains(p.toString()), "message does not name the file: " + m);
        for (String f : fragments) {
            assertTrue(m.contains(f), "message lacks '" + f + "': " + m);
        }
    }

    private Path write(String name, byte[] content) throws IOException {
        return Files.write(dir.resolve(name), content);
    }

    private static byte[] file(String header, byte[] data) {
        return file(header.getBytes(StandardCharsets.UTF_8), data);
    }

    private static byte[] file(byte[] header, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(header.length).put(header).put(data);
        return b.array();
    }
}
