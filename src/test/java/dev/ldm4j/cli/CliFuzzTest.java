package dev.ldm4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ldm4j.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded random and boundary values for every flag of {@code generate}, one to three flags per run, on the
 * tiny model (one step, so the runs that are valid finish in a fraction of a second). Whatever the values:
 * exit 0 with the output written, or exit 2 with one line and no file; never an internal error, a stack
 * trace, a flood or a half-written file.
 */
class CliFuzzTest {
    private static final int RUNS = 500;

    private static final List<String> INTS = List.of("-2147483649", "-2147483648", "-1", "0", "1", "2", "7", "8",
            "9", "63", "64", "65", "1000", "1001", "10001", "2147483647", "2147483648", "99999999999999999999",
            "1.5", "1e3", "0x10", "", " ", "abc", "NaN", "-0", "+1", "٣");
    private static final List<String> DOUBLES = List.of("NaN", "Infinity", "-Infinity", "1e309", "-1e309", "1e30",
            "-1e30", "0", "-0", "1", "0.5", "7.5", "1e-320", "abc", "", "0x1p3", "2", "-2", "1,5");
    private static final List<String> NAMES = List.of("", " ", "euler_a", "EULER_A", "ddim", "dpm++2m", "heun",
            "karras", "discrete", "exponential", "x".repeat(1000), "../../etc/passwd", "☃", "fp16", "bf16", "fp32",
            "cuda", "cpu", "auto", "mean", "sample", "diffusers", "compvis", "null");
    private static final List<String> PROMPTS = List.of("", "(((((", ")", "[[[", "BREAK", "(word:1e30)",
            "(word:-1e30)", "(word:nan)", "a".repeat(20_000), "\n\t", "🍎 apple", "@/etc/hostname", "--seed 7",
            "(apple:1.3) [pear] BREAK (fig:0.5)", "-p", "\\", "a <lora:sd1_tiny_lora:0.8>", "<lora:../x:1>",
            "<lora:sd1_tiny_lora:nan>", "<lora:sd1_tiny_lora:1:2:3>", "<lora:>", "<lora:model:1>");
    private static final List<String> SIZES = List.of("64x64", "0x0", "-1x5", "64", "x", "99999999999x1", "1,2", "0,0",
            "-5,3", "64x64x64", "");

    @TempDir
    Path dir;

    private Map<String, List<String>> values(Path fifo) {
        String photo = Fixtures.path("sd1-tiny/photo_64.png").toString();
        String mask = Fixtures.path("sd1-tiny/mask_64.png").toString();
        String model = Fixtures.path("sd1-tiny/model.safetensors").toString();
        String config = Fixtures.path("sd1-tiny/config.yaml").toString();
        List<String> inputs = List.of("", "/", "/dev/null", "/dev/zero", "/etc/passwd", dir.resolve("missing").toString(),
                dir.toString(), fifo.toString(), photo, mask, model, config);
        // outputs stay inside the test's folder (or are devices, which must be refused)
        Path work = dir.resolve("run");
        List<String> outputs = List.of(work.resolve("out.png").toString(), work.toString(), "/dev/null",
                work.resolve("no/such/dir/out.png").toString(), work.resolve("out.jpg").toString(), fifo.toString());
        return Map.ofEntries(
                Map.entry("-m", inputs), Map.entry("--config", inputs), Map.entry("--vae", inputs),
                Map.entry("--taesd", inputs), Map.entry("-i", inputs), Map.entry("--mask", inputs),
                Map.entry("-p", PROMPTS), Map.entry("-n", PROMPTS),
                Map.entry("--steps", INTS), Map.entry("-W", INTS), Map.entry("-H", INTS), Map.entry("-b", INTS),
                Map.entry("-t", INTS), Map.entry("--clip-skip", INTS), Map.entry("-s", INTS),
                Map.entry("--cfg-scale", DOUBLES), Map.entry("--eta", DOUBLES), Map.entry("--strength", DOUBLES),
                Map.entry("--sampling-method", NAMES), Map.entry("--scheduler", NAMES),
                Map.entry("--precision", NAMES), Map.entry("--vae-precision", NAMES), Map.entry("--device", NAMES),
                Map.entry("--vae-encoding", NAMES), Map.entry("--img2img-noising", NAMES),
                Map.entry("--lora-model-dir", List.of(Fixtures.path("lora").toString(), Fixtures.path("sd1-tiny").toString(),
                        "/", "/dev/null", dir.resolve("missing").toString(), "", fifo.toString())),
                Map.entry("--embd-dir", List.of(Fixtures.path("lora").toString(), "/dev/null",
                        dir.resolve("missing").toString(), "", fifo.toString())),
                Map.entry("--refiner", inputs), Map.entry("--refiner-switch", DOUBLES), Map.entry("--noise-level", INTS),
                Map.entry("--original-size", SIZES), Map.entry("--crop", SIZES), Map.entry("--target-size", SIZES),
                Map.entry("-o", outputs));
    }

    @Test
    void everyValueGivesAnImageOrOneLineAndExitTwo() throws Exception {
        Path fifo = dir.resolve("fifo");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
        Map<String, List<String>> values = values(fifo);
        List<String> flags = values.keySet().stream().sorted().toList();
        List<String> switches = List.of("--vae-tiling", "--no-vae-tiling", "--ignore-memory-plan", "--unknown-flag");
        Random random = new Random(18);
        int images = 0;
        for (int run = 0; run < RUNS; run++) {
            Path work = Files.createDirectories(dir.resolve("run"));
            List<String> overrides = new ArrayList<>(List.of("--steps", "1", "-o", work.resolve("out.png").toString()));
            int n = 1 + random.nextInt(3);
            for (int i = 0; i < n; i++) {
                String flag = flags.get(random.nextInt(flags.size()));
                List<String> pool = values.get(flag);
                overrides.addAll(List.of(flag, pool.get(random.nextInt(pool.size()))));
            }
            List<String> args = new ArrayList<>(List.of(CliTest.tinyArgs(work.resolve("out.png"),
                    overrides.toArray(String[]::new))));
            if (random.nextInt(8) == 0) {
                args.add(switches.get(random.nextInt(switches.size())));
            }
            CliTest.Run r = CliTest.cli(args.toArray(String[]::new));
            String what = "run " + run + ": " + shortArgs(args) + "\n" + r.err();
            List<Path> written = written(work, dir);
            if (r.code() == 0) {
                assertTrue(!written.isEmpty(), "exit 0 but no image: " + what);
                images++;
            } else {
                assertEquals(2, r.code(), what);
                List<String> lines = r.err().strip().lines().toList();
                assertEquals(1, lines.size(), what);
                assertTrue(lines.get(0).startsWith("ldm4j: error: ") && lines.get(0).length() < 600, what);
                assertEquals(List.of(), written, "a failed run left files: " + what);
            }
            clear(work);
        }
        assertTrue(images > 0, "no run was valid: the fuzzer tests only the first check");
    }

    /** Files the run made: in its folder, or beside the test's inputs (but not the FIFO or the folder). */
    private static List<Path> written(Path work, Path dir) throws IOException {
        List<Path> all = new ArrayList<>();
        try (Stream<Path> a = Files.list(work); Stream<Path> b = Files.list(dir)) {
            a.forEach(all::add);
            b.filter(p -> !p.getFileName().toString().equals("fifo") && !p.equals(work)).forEach(all::add);
        }
        return all;
    }

    private static void clear(Path work) throws IOException {
        try (Stream<Path> files = Files.walk(work)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    private static String shortArgs(List<String> args) {
        return args.stream().map(a -> a.length() > 60 ? a.substring(0, 60) + "...(" + a.length() + ")" : a).toList()
                .toString();
    }
}
