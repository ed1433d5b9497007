package dev.ldm4j.model;

import dev.ldm4j.io.DType;
import dev.ldm4j.io.ModelFileException;
import dev.ldm4j.io.SafetensorsFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An OpenCLIP text tower (SDXL's ViT-bigG) in diffusers' layout, a transformers CLIPTextModelWithProjection,
 * and back. Names follow diffusers' conversion: resblocks are encoder layers, ln_1/ln_2 layer_norm1/2, c_fc/c_proj
 * fc1/fc2, ln_final final_layer_norm. Two tensors are not renames: OpenCLIP's fused {@code attn.in_proj_weight}
 * / {@code in_proj_bias} are q, k and v stacked along the first dimension (so their bytes are the three
 * concatenated), and {@code text_projection} [width, embed] is the transpose of transformers' Linear weight
 * [embed, width]. Those are computed in memory.
 */
final class DiffusersOpenClip {
    private static final Pattern LAYER = Pattern.compile("text_model\\.encoder\\.layers\\.(\\d+)\\.(.*)");
    private static final Pattern RESBLOCK = Pattern.compile("transformer\\.resblocks\\.(\\d+)\\.(.*)");
    private static final String[][] RENAMES = {
        {"layer_norm1.", "ln_1."}, {"layer_norm2.", "ln_2."}, {"mlp.fc1.", "mlp.c_fc."}, {"mlp.fc2.", "mlp.c_proj."},
        {"self_attn.out_proj.", "attn.out_proj."}};

    private DiffusersOpenClip() {}

    /** The OpenCLIP tensors (names below the tower's prefix) of a diffusers text_encoder_2's files. */
    static void toOpenClip(SafetensorsFile f, String prefix, Map<String, SafetensorsFile.Part> parts,
                           Map<String, SafetensorsFile.Memory> memory) {
        Map<String, String[]> qkv = new LinkedHashMap<>();
        for (String key : f.keys()) {
            Matcher m = LAYER.matcher(key);
            if (m.matches()) {
                String rest = m.group(2);
                Matcher p = Pattern.compile("self_attn\\.([qkv])_proj\\.(weight|bias)").matcher(rest);
                if (p.matches()) {
                    String fused = "transformer.resblocks." + m.group(1) + ".attn.in_proj_" + p.group(2);
                    qkv.computeIfAbsent(fused, k -> new String[3])["qkv".indexOf(p.group(1))] = key;
                    continue;
                }
                String renamed = rest;
                for (String[] r : RENAMES) {
                    if (rest.startsWith(r[0])) {
                        renamed = r[1] + rest.substring(r[0].length());
                    }
                }
                parts.put(prefix + "transformer.resblocks." + m.group(1) + "." + renamed, new SafetensorsFile.Part(f, key));
            } else if (key.equals("text_model.embeddings.token_embedding.weight")) {
                parts.put(prefix + "token_embedding.weight", new SafetensorsFile.Part(f, key));
            } else if (key.equals("text_model.embeddings.position_embedding.weight")) {
                parts.put(prefix + "positional_embedding", new SafetensorsFile.Part(f, key));
            } else if (key.startsWith("text_model.final_layer_norm.")) {
                parts.put(prefix + "ln_final." + key.substring("text_model.final_layer_norm.".length()),
                        new SafetensorsFile.Part(f, key));
            } else if (key.equals("text_projection.weight")) {
                memory.put(prefix + "text_projection", transpose(f, key));
            }
        }
        for (Map.Entry<String, String[]> e : qkv.entrySet()) {
            memory.put(prefix + e.getKey(), concat(f, e.getValue(), e.getKey()));
        }
    }

    /** The diffusers tensors of an OpenCLIP tower whose names start with {@code prefix} in {@code f}. */
    static void toDiffusers(SafetensorsFile f, String prefix, Map<String, SafetensorsFile.Part> parts,
                            Map<String, SafetensorsFile.Memory> memory) {
        toDiffusers(f, prefix, Integer.MAX_VALUE, true, parts, memory);
    }

    /**
     * As above, keeping only the first {@code layers} resblocks (diffusers stores SD 2.x's tower without the last
     * one, which its penultimate-layer conditioning never runs) and the projection only if asked.
     */
    static void toDiffusers(SafetensorsFile f, String prefix, int layers, boolean projection,
                            Map<String, SafetensorsFile.Part> parts, Map<String, SafetensorsFile.Memory> memory) {
        for (String key : f.keys()) {
            if (!key.startsWith(prefix)) {
                continue;
            }
            String inner = key.substring(prefix.length());
            Matcher m = RESBLOCK.matcher(inner);
            if (m.matches()) {
                if (Integer.parseInt(m.group(1)) >= layers) {
                    continue;
                }
                String rest = m.group(2);
                String layer = "text_model.encoder.layers." + m.group(1) + ".";
                if (rest.startsWith("attn.in_proj_")) {
                    String kind = rest.substring("attn.in_proj_".length());
                    ByteBuffer[] thirds = split(f, key);
                    long[] s = f.info(key).shape();
                    long[] shape = s.length == 2 ? new long[] {s[0] / 3, s[1]} : new long[] {s[0] / 3};
                    for (int i = 0; i < 3; i++) {
                        memory.put(layer + "self_attn." + "qkv".charAt(i) + "_proj." + kind,
                                new SafetensorsFile.Memory(f.info(key).dtype(), shape, thirds[i]));
                    }
                    continue;
                }
                String renamed = rest;
                for (String[] r : RENAMES) {
                    if (rest.startsWith(r[1])) {
                        renamed = r[0] + rest.substring(r[1].length());
                    }
                }
                parts.put(layer + renamed, new SafetensorsFile.Part(f, key));
            } else if (inner.equals("token_embedding.weight")) {
                parts.put("text_model.embeddings.token_embedding.weight", new SafetensorsFile.Part(f, key));
            } else if (inner.equals("positional_embedding")) {
                parts.put("text_model.embeddings.position_embedding.weight", new SafetensorsFile.Part(f, key));
            } else if (inner.startsWith("ln_final.")) {
                parts.put("text_model.final_layer_norm." + inner.substring("ln_final.".length()),
                        new SafetensorsFile.Part(f, key));
            } else if (inner.equals("text_projection") && projection) {
                memory.put("text_projection.weight", transpose(f, key));
            }
        }
    }

    private static SafetensorsFile.Memory concat(SafetensorsFile f, String[] keys, String fused) {
        for (String k : keys) {
            if (k == null) {
                throw new ModelFileException(f.path() + ": " + fused + " lacks one of its q, k, v projections");
            }
        }
        DType dtype = f.info(keys[0]).dtype();
        long[] s = f.info(keys[0]).shape();
        long bytes = f.info(keys[0]).byteSize();
        ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(3 * bytes)).order(ByteOrder.LITTLE_ENDIAN);
        for (String k : keys) {
            if (f.info(k).dtype() != dtype || f.info(k).byteSize() != bytes) {
                throw new ModelFileException(f.path() + ": the q, k, v projections of " + fused + " differ in shape or dtype");
            }
            f.read(k, out);
            out.position(out.position() + (int) bytes);
        }
        out.flip();
        long[] shape = s.length == 2 ? new long[] {3 * s[0], s[1]} : new long[] {3 * s[0]};
        return new SafetensorsFile.Memory(dtype, shape, out);
    }

    private static ByteBuffer[] split(SafetensorsFile f, String key) {
        ByteBuffer all = ByteBuffer.allocate(Math.toIntExact(f.info(key).byteSize())).order(ByteOrder.LITTLE_ENDIAN);
        f.read(key, all);
        int third = all.capacity() / 3;
        ByteBuffer[] out = new ByteBuffer[3];
        for (int i = 0; i < 3; i++) {
            out[i] = all.duplicate().position(i * third).limit((i + 1) * third).slice().order(ByteOrder.LITTLE_ENDIAN);
        }
        return out;
    }

    /** A 2-D tensor transposed, element by element in its own dtype (bytes moved, not converted). */
    private static SafetensorsFile.Memory transpose(SafetensorsFile f, String key) {
        long[] s = f.info(key).shape();
        if (s.length != 2) {
            throw new ModelFileException(f.path() + ": " + key + " is not 2-D");
        }
        int e = f.info(key).dtype().byteSize();
        ByteBuffer in = ByteBuffer.allocate(Math.toIntExact(f.info(key).byteSize()));
        f.read(key, in);
        ByteBuffer out = ByteBuffer.allocate(in.capacity()).order(ByteOrder.LITTLE_ENDIAN);
        int rows = (int) s[0];
        int cols = (int) s[1];
        byte[] src = in.array();
        byte[] dst = out.array();
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                System.arraycopy(src, (r * cols + c) * e, dst, (c * rows + r) * e, e);
            }
        }
        return new SafetensorsFile.Memory(f.info(key).dtype(), new long[] {s[1], s[0]}, out);
    }
}
