package dev.ldm4j.server;

import static dev.ldm4j.server.ApiServerTest.clientBody;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A client that closes its connection cancels its job: a running one stops at its next step, a queued one
 * leaves the queue; a client that stays gets its answer, and the server serves the next request as before.
 */
class ClientDisconnectTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private static TinyServer server;

    @BeforeAll
    static void start() {
        server = TinyServer.start();
    }

    @AfterAll
    static void stop() {
        TinyServer.close(server);
    }

    /** A txt2img request written on a raw socket, so the test can walk away from it. */
    private static Socket send(String prompt, int steps) throws Exception {
        byte[] body = JSON.writeValueAsBytes(clientBody(prompt, 1, steps, 64, "Euler"));
        Socket s = new Socket("127.0.0.1", server.port());
        OutputStream out = s.getOutputStream();
        out.write(("POST /sdapi/v1/txt2img HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(body);
        out.flush();
        return s;
    }

    private static JsonNode progress() throws Exception {
        return JSON.readTree(HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port()
                + "/sdapi/v1/progress?skip_current_image=true")).build(), HttpResponse.BodyHandlers.ofString()).body());
    }

    private static JsonNode await(Predicate<JsonNode> until, String what) throws Exception {
        long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
        while (System.nanoTime() < deadline) {
            JsonNode p = progress();
            if (until.test(p)) {
                return p;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("never " + what + ": " + progress());
    }

    @Test
    void leavingCancelsTheRunningJobAndTheQueuedOne() throws Exception {
        Socket running = send("a long job", 2000);
        await(p -> p.path("state").path("sampling_step").asInt() > 0, "running");
        Socket queued = send("waits behind it", 2000);
        await(p -> p.path("state").path("job_count").asInt() == 2, "queued");

        queued.close();
        JsonNode one = await(p -> p.path("state").path("job_count").asInt() == 1, "withdrawn from the queue");
        assertTrue(one.path("state").path("sampling_step").asInt() < 2000, "the first job still runs");

        running.close();
        await(p -> p.path("state").path("job_count").asInt() == 0, "stopped");

        // the server carries on: a client that stays gets its image
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port()
                + "/sdapi/v1/txt2img")).header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers
                .ofString(JSON.writeValueAsString(clientBody("stays", 3, 2, 64, "Euler")))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        assertEquals(1, JSON.readTree(r.body()).path("images").size());
    }
}
