package dev.ldm4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ldm4j.io.Images;
import dev.ldm4j.model.DefaultModel;
import dev.ldm4j.model.MemoryPlan;
import dev.ldm4j.model.ModelConfig;
import dev.ldm4j.model.ModelLoader;
import dev.ldm4j.nn.CpuFeatures;
import dev.ldm4j.nn.Torch;
import dev.ldm4j.pipeline.GenerationRequest;
import dev.ldm4j.pipeline.Generator;
import dev.ldm4j.server.ApiServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code ldm4j loadtest}: starts {@code serve} in this JVM on a free loopback port and sends it the requests of
 * N concurrent clients, then checks what a server under load must do: every request answered (a 503 is retried
 * after its Retry-After), none lost and none swapped (each image equals its seed's image from a lone request), jobs
 * cancelled under load end cancelled, and peak memory against the memory plan. A benchmark, not a test: it prints
 * figures, and exits 1 when a check fails.
 */
@Command(name = "loadtest", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Load test of 'serve' on loopback: N clients x M requests, each image checked against its "
                + "seed's single-request image, jobs cancelled under load; prints throughput, latency and peak memory.")
final class LoadTestCommand implements Callable<Integer> {
    @Option(names = {"-m", "--model"}, paramLabel = "FILE",
            description = "Checkpoint; default: ldm4j's own emoji model (" + DefaultModel.MODEL + ").")
    Path model;

    @Option(names = "--config", paramLabel = "FILE", description = "The model's LDM YAML config.")
    Path config;

    @Option(names = "--clients", defaultValue = "4", description = "Concurrent clients (default ${DEFAULT-VALUE}).")
    int clients;

    @Option(names = "--requests", defaultValue = "4", description = "Requests per client (default ${DEFAULT-VALUE}).")
    int requests;

    @Option(names = "--seeds", defaultValue = "4",
            description = "Distinct seeds the requests cycle through; each is first run alone (default ${DEFAULT-VALUE}).")
    int seeds;

    @Option(names = "--cancel", defaultValue = "2",
            description = "Long jobs submitted and cancelled while the clients run (default ${DEFAULT-VALUE}).")
    int cancels;

    @Option(names = "--steps", defaultValue = "8", description = "Steps per image (default ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--size", defaultValue = "0",
            description = "Width and height; 0 = the model's size (default).")
    int size;

    @Option(names = "--sampler", defaultValue = "Euler", description = "Sampler (default ${DEFAULT-VALUE}).")
    String sampler;

    @Option(names = "--max-queue", defaultValue = "16",
            description = "The server's queue (default ${DEFAULT-VALUE}); fewer than the clients shows 503s.")
    int maxQueue;

    @Mixin
    Threads threads;

    private static final ObjectMapper JSON = new ObjectMapper();

    private record Outcome(int seed, long nanos, int retries, boolean matches, String error) {}

    @Override
    public Integer call() {
        if (clients < 1 || requests < 1 || seeds < 1 || cancels < 0 || steps < 1 || maxQueue < 0) {
            throw new BadInputException("--clients, --requests, --seeds and --steps must be >= 1; --cancel and "
                    + "--max-queue >= 0");
        }
        Path file = model != null ? model : DefaultModel.resolve();
        Path yaml = ModelConfig.configFor(file, config);
        int px = size > 0 ? size : ModelConfig.recommendedImageSize(yaml).orElse(512);
        Torch.load();
        threads.apply();
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        try (ApiServer server = ApiServer.load(new ApiServer.Settings("127.0.0.1", 0, maxQueue, file, config))) {
            String base = "http://127.0.0.1:" + server.port();
            Map<Integer, byte[]> reference = new HashMap<>();
            long single = 0;
            for (int s = 0; s < seeds; s++) {
                long t0 = System.nanoTime();
                reference.put(s, pixels(post(http, base + "/sdapi/v1/txt2img", body(s, steps, px)).body()));
                single += System.nanoTime() - t0;
            }
            System.err.printf("single requests: %d seeds, %.2f s each%n", seeds, single / 1e9 / seeds);

            ExecutorService pool = Executors.newFixedThreadPool(clients + 1);
            AtomicInteger served = new AtomicInteger();
            int total = clients * requests;
            long t0 = System.nanoTime();
            List<Future<List<Outcome>>> work = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                int client = c;
                work.add(pool.submit(() -> client(http, base, client, reference, px, served, total)));
            }
            Future<int[]> cancelled = pool.submit(() -> cancelUnderLoad(http, base, px));
            List<Outcome> outcomes = new ArrayList<>();
            String failure = null;
            for (Future<List<Outcome>> f : work) {
                try {
                    outcomes.addAll(f.get());
                } catch (Exception e) {
                    failure = "a client failed: " + e.getCause();
                }
            }
            long wall = System.nanoTime() - t0;
            int[] cancelResult;
            try {
                cancelResult = cancelled.get();
            } catch (Exception e) {
                cancelResult = new int[] {0, cancels};
                failure = "the cancels failed: " + e.getCause();
            }
            pool.shutdownNow();
            pool.awaitTermination(1, TimeUnit.MINUTES);
            return report(outcomes, total, wall, cancelResult, px, file, yaml, failure) ? 0 : 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        } catch (IOException e) {
            throw new BadInputException("the load test could not talk to its server: " + e.getMessage());
        }
    }

    private List<Outcome> client(HttpClient http, String base, int client, Map<Integer, byte[]> reference, int px,
                                 AtomicInteger served, int total) throws Exception {
        List<Outcome> out = new ArrayList<>();
        for (int r = 0; r < requests; r++) {
            int seed = (client * requests + r) % seeds;
            long t0 = System.nanoTime();
            int retries = 0;
            String error = null;
            boolean matches = false;
            while (true) {
                HttpResponse<String> res = post(http, base + "/sdapi/v1/txt2img", body(seed, steps, px));
                if (res.statusCode() == 503) {
                    retries++;
                    long wait = res.headers().firstValue("Retry-After").map(Long::parseLong).orElse(1L);
                    Thread.sleep(Math.min(wait, 2) * 250);
                    continue;
                }
                if (res.statusCode() != 200) {
                    error = res.statusCode() + " " + res.body();
                } else {
                    matches = Arrays.equals(reference.get(seed), pixels(res.body()));
                }
                break;
            }
            out.add(new Outcome(seed, System.nanoTime() - t0, retries, matches, error));
            int done = served.incrementAndGet();
            if (done % Math.max(1, total / 10) == 0 || done == total) {
                System.err.printf("\r%d/%d requests answered", done, total);
            }
        }
        return out;
    }

    /** Submits long jobs, cancels each once it runs or waits; {ended cancelled, did not}. */
    private int[] cancelUnderLoad(HttpClient http, String base, int px) throws Exception {
        int ok = 0;
        int bad = 0;
        for (int i = 0; i < cancels; i++) {
            HttpResponse<String> r = post(http, base + "/ldm4j/v1/jobs", body(1000 + i, steps * 50, px));
            if (r.statusCode() == 503) {
                Thread.sleep(500);
                i--;
                continue;
            }
            String id = JSON.readTree(r.body()).path("id").asText();
            Thread.sleep(200L * (i + 1));
            http.send(HttpRequest.newBuilder(URI.create(base + "/ldm4j/v1/jobs/" + id)).DELETE().build(),
                    HttpResponse.BodyHandlers.ofString());
            String state = "";
            long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
            while (System.nanoTime() < deadline) {
                state = JSON.readTree(http.send(HttpRequest.newBuilder(URI.create(base + "/ldm4j/v1/jobs/" + id))
                        .build(), HttpResponse.BodyHandlers.ofString()).body()).path("state").asText();
                if (!state.equals("queued") && !state.equals("running")) {
                    break;
                }
                Thread.sleep(50);
            }
            if (state.equals("cancelled")) {
                ok++;
            } else {
                bad++;
            }
        }
        return new int[] {ok, bad};
    }

    /** Prints the figures; whether every check held. */
    private boolean report(List<Outcome> outcomes, int total, long wall, int[] cancelled, int px, Path file, Path yaml,
                        String failure) {
        System.err.println();
        List<Long> latencies = new ArrayList<>(outcomes.stream().map(Outcome::nanos).toList());
        Collections.sort(latencies);
        long answered = outcomes.stream().filter(o -> o.error() == null).count();
        long swapped = outcomes.stream().filter(o -> o.error() == null && !o.matches()).count();
        int retries = outcomes.stream().mapToInt(Outcome::retries).sum();
        long lost = total - outcomes.size();
        GenerationRequest r = new GenerationRequest("load test", "", px, px, steps, 7.0, sampler, null, 0.0, 0, 1, 0);
        MemoryPlan plan = Generator.memoryPlan(new ModelLoader.Options(file, yaml, null, null), r,
                new Generator.Options(null), MemoryPlan.availableBytes());
        long peak = BenchCommand.peakRssBytes();
        System.out.printf("CPU: %s; %s%n", CpuFeatures.describe(), file.getFileName());
        System.out.printf("clients %d x requests %d (%d seeds), %dx%d, %d steps, %s; queue %d%n", clients, requests,
                seeds, px, px, steps, sampler, maxQueue);
        System.out.printf("answered %d/%d, lost %d, images not their seed's %d, errors %d, 503 retries %d%n",
                answered, total, lost, swapped, outcomes.size() - answered, retries);
        System.out.printf("cancelled under load: %d/%d ended cancelled%n", cancelled[0], cancelled[0] + cancelled[1]);
        System.out.printf("wall %.1f s, %.1f images/min; latency p50 %.2f s, p95 %.2f s, max %.2f s%n", wall / 1e9,
                answered * 60e9 / wall, pct(latencies, 0.5), pct(latencies, 0.95), pct(latencies, 1.0));
        System.out.printf("peak RSS %.2f GB; memory plan for one request %.2f GB%n", peak / 1e9,
                plan.peakBytes() / 1e9);
        boolean ok = failure == null && lost == 0 && swapped == 0 && answered == total && cancelled[1] == 0;
        if (!ok) {
            System.out.println("FAILED" + (failure == null ? "" : ": " + failure));
        }
        return ok;
    }

    private static double pct(List<Long> sorted, double q) {
        if (sorted.isEmpty()) {
            return 0;
        }
        int i = Math.min(sorted.size() - 1, (int) Math.ceil(q * sorted.size()) - 1);
        return sorted.get(Math.max(0, i)) / 1e9;
    }

    private ObjectNode body(int seed, int n, int px) {
        ObjectNode b = JSON.createObjectNode();
        b.put("prompt", "red apple");
        b.put("seed", seed);
        b.put("steps", n);
        b.put("width", px);
        b.put("height", px);
        b.put("sampler_name", sampler);
        b.put("cfg_scale", 7.0);
        return b;
    }

    private static HttpResponse<String> post(HttpClient http, String url, ObjectNode body) throws IOException,
            InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/json")
                .timeout(Duration.ofMinutes(30)).POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    private static byte[] pixels(String answer) throws IOException {
        JsonNode images = JSON.readTree(answer).path("images");
        if (images.size() == 0) {
            throw new IOException("an answer without images: " + answer.substring(0, Math.min(200, answer.length())));
        }
        return Images.decodeRgb(Base64.getDecoder().decode(images.get(0).asText()), "answer").pixels();
    }
}
