package dev.ldm4j.server;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ldm4j.io.BadRequestException;
import dev.ldm4j.model.LatentDiffusionModel;
import dev.ldm4j.model.ModelConfig;
import dev.ldm4j.pipeline.Generator;
import io.javalin.Javalin;
import io.javalin.util.JavalinBindException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code ldm4j serve}: an HTTP server answering AUTOMATIC1111's API ({@link A1111Api}) for one loaded model.
 * The model is the caller's: closing the server stops the routes and the worker, not the model.
 */
public final class ApiServer implements AutoCloseable {
    /** Requests up to this size: a few base64 images of 2048x2048. */
    static final long MAX_REQUEST_BYTES = 64L << 20;

    /**
     * @param host     the address to bind (127.0.0.1: this machine only)
     * @param port     the port; 0 = any free one ({@link #port()} tells which)
     * @param maxQueue requests that may wait behind the running one before 503
     * @param model    the checkpoint served (for sd-models and the options)
     * @param config   its YAML, or null when detected
     */
    public record Settings(String host, int port, int maxQueue, Path model, Path config) {}

    private final Javalin app;
    private final A1111Api api;
    private final GenerationQueue queue;

    private ApiServer(Javalin app, A1111Api api, GenerationQueue queue) {
        this.app = app;
        this.api = api;
        this.queue = queue;
    }

    /** Starts serving {@code model}; returns once the port is bound. */
    public static ApiServer start(LatentDiffusionModel model, Settings s) {
        ObjectMapper json = new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
        Path yaml = ModelConfig.configFor(s.model(), s.config());
        int imageSize = ModelConfig.recommendedImageSize(yaml).orElse(512);
        Map<String, Object> flags = new LinkedHashMap<>();
        flags.put("api", true);
        flags.put("nowebui", true);
        flags.put("listen", !s.host().equals("127.0.0.1") && !s.host().equals("localhost"));
        flags.put("server_name", s.host());
        flags.put("port", s.port());
        flags.put("ckpt", s.model().toAbsolutePath().toString());
        flags.put("config", yaml == null ? null : yaml.toAbsolutePath().toString());
        flags.put("device_id", null);
        flags.put("use_cpu", model.device().name().equals("CPU") ? java.util.List.of("all") : java.util.List.of());
        GenerationQueue queue = new GenerationQueue(s.maxQueue());
        A1111Api api = new A1111Api(json, new Generator(model), queue, new ModelEntry(s.model(), yaml, model.name()),
                imageSize, flags);
        Javalin app = Javalin.create(config -> {
            config.showJavalinBanner = false;
            config.http.maxRequestSize = MAX_REQUEST_BYTES;
        });
        api.register(app);
        try {
            app.start(s.host(), s.port());
        } catch (JavalinBindException e) {
            queue.close();
            // a port in use or an address not of this machine: the user's to fix, not a bug
            throw new BadRequestException("cannot listen on " + s.host() + ":" + s.port() + " (" + e.getMessage()
                    + "); choose another --port or --host", e);
        } catch (RuntimeException e) {
            queue.close();
            throw e;
        }
        return new ApiServer(app, api, queue);
    }

    /** The bound port. */
    public int port() {
        return app.port();
    }

    @Override
    public void close() {
        app.stop();
        // the model is closed after this returns: no step of a job may still be running then
        api.interrupt();
        queue.close();
    }
}
