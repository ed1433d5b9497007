package dev.ldm4j.server;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ldm4j.io.BadRequestException;
import dev.ldm4j.model.LatentDiffusionModel;
import dev.ldm4j.model.ModelConfig;
import dev.ldm4j.model.ModelLoader;
import dev.ldm4j.vae.TaesdFiles;
import io.javalin.Javalin;
import io.javalin.http.staticfiles.Location;
import io.javalin.util.JavalinBindException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code ldm4j serve}: an HTTP server answering AUTOMATIC1111's API ({@link A1111Api}), serving one model at a
 * time: the {@code -m} model or one of {@code --models-dir}, switched by the client. A model given to
 * {@link #start} stays the caller's to close; the ones the server loads (a switch, a LoRA set) it closes. Its web
 * page, at {@code /}, is a client of that API.
 */
public final class ApiServer implements AutoCloseable {
    /** Requests up to this size by default: a few base64 images of 2048x2048. */
    public static final int DEFAULT_MAX_BODY_MB = 64;
    /** Where the web page's files lie on the classpath. */
    static final String WEB_PAGE = "/dev/ldm4j/server/web";

    /**
     * @param host        the address to bind (127.0.0.1: this machine only)
     * @param port        the port; 0 = any free one ({@link #port()} tells which)
     * @param maxQueue    requests that may wait behind the running one before 503
     * @param model       the checkpoint served first, or null for the first of {@code modelsDir}
     * @param config      its YAML, or null when detected
     * @param modelsDir   the checkpoints a client may switch to, or null
     * @param loraDir     where a prompt's {@code <lora:NAME:M>} finds NAME, or null
     * @param apiAuth     {@code user:pass[,user2:pass2]} for HTTP basic auth, or null for none
     * @param maxBodyMb   larger request bodies answer 413
     * @param embeddingsDir textual-inversion embeddings, or null
     * @param previewTaesd  a TAESD decoder for live previews, or null (the model's own decode)
     * @param limits        what one request may ask for; null: {@link RequestLimits#NONE} ({@code serve}'s flags
     *                      default to {@link RequestLimits#DEFAULT})
     */
    public record Settings(String host, int port, int maxQueue, Path model, Path config, Path modelsDir,
                           Path loraDir, String apiAuth, int maxBodyMb, Path embeddingsDir, Path previewTaesd,
                           RequestLimits limits) {
        public Settings {
            limits = limits == null ? RequestLimits.NONE : limits;
        }

        public Settings(String host, int port, int maxQueue, Path model, Path config, Path modelsDir,
                        Path loraDir, String apiAuth, int maxBodyMb, Path embeddingsDir, Path previewTaesd) {
            this(host, port, maxQueue, model, config, modelsDir, loraDir, apiAuth, maxBodyMb, embeddingsDir,
                    previewTaesd, null);
        }

        public Settings(String host, int port, int maxQueue, Path model, Path config, Path modelsDir,
                        Path loraDir, String apiAuth, int maxBodyMb) {
            this(host, port, maxQueue, model, config, modelsDir, loraDir, apiAuth, maxBodyMb, null, null, null);
        }

        public Settings(String host, int port, int maxQueue, Path model, Path config) {
            this(host, port, maxQueue, model, config, null, null, null, DEFAULT_MAX_BODY_MB, null, null, null);
        }
    }

    private final Javalin app;
    private final A1111Api api;
    private final GenerationQueue queue;
    private final ServedModel served;

    private ApiServer(Javalin app, A1111Api api, GenerationQueue queue, ServedModel served) {
        this.app = app;
        this.api = api;
        this.queue = queue;
        this.served = served;
    }

    /**
     * Loads the first model ({@code -m}, else the first of {@code --models-dir}) and serves it; the server owns
     * it, and every model it loads later.
     */
    public static ApiServer load(Settings s) {
        Path first = s.model() != null ? s.model() : firstOf(s.modelsDir());
        LatentDiffusionModel model = ModelLoader.load(new ModelLoader.Options(first,
                s.model() != null ? s.config() : ModelConfig.configFor(first, null), null, null)
                .withEmbeddings(s.embeddingsDir()));
        try {
            return start(model, new Settings(s.host(), s.port(), s.maxQueue(), first,
                    s.model() != null ? s.config() : null, s.modelsDir(), s.loraDir(), s.apiAuth(), s.maxBodyMb(),
                    s.embeddingsDir(), s.previewTaesd(), s.limits()), true);
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    private static Path firstOf(Path modelsDir) {
        if (modelsDir == null) {
            throw new BadRequestException("give a model (-m) or a models folder (--models-dir)");
        }
        if (!Files.isDirectory(modelsDir)) {
            throw new BadRequestException("--models-dir " + modelsDir + " is not a folder");
        }
        List<ModelEntry> entries = new ModelCatalog(modelsDir, null).entries();
        if (entries.isEmpty()) {
            throw new BadRequestException("--models-dir " + modelsDir.toAbsolutePath().normalize()
                    + " holds no checkpoint (.safetensors, .ckpt, .pt or a diffusers folder)");
        }
        return entries.get(0).file();
    }

    /** Starts serving {@code model} (the caller's to close); returns once the port is bound. */
    public static ApiServer start(LatentDiffusionModel model, Settings s) {
        return start(model, s, false);
    }

    private static ApiServer start(LatentDiffusionModel model, Settings s, boolean owned) {
        if (s.maxBodyMb() < 1) {
            throw new BadRequestException("--max-body-mb must be at least 1, got " + s.maxBodyMb());
        }
        BasicAuth auth = BasicAuth.parse(s.apiAuth());
        ObjectMapper json = new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
        Path yaml = ModelConfig.configFor(s.model(), s.config());
        ModelEntry entry = new ModelEntry(s.model(), yaml, model.name());
        // the served model is listed first, once, even when it lies in --models-dir
        ModelCatalog catalog = new ModelCatalog(s.modelsDir(), entry);
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
        flags.put("ckpt_dir", s.modelsDir() == null ? null : s.modelsDir().toAbsolutePath().toString());
        flags.put("lora_dir", s.loraDir() == null ? null : s.loraDir().toAbsolutePath().toString());
        flags.put("api_auth", auth == null ? null : "<set>");
        GenerationQueue queue = new GenerationQueue(s.maxQueue());
        ServedModel served = new ServedModel(model, entry, owned);
        // the preview decoder lives as long as the server: a few MB, read once
        Previews previews = new Previews(s.previewTaesd() == null ? null : TaesdFiles.decoder(s.previewTaesd()));
        A1111Api api = new A1111Api(json, queue, served, catalog, new LoraLibrary(s.loraDir()), flags, auth,
                previews, s.limits());
        Javalin app = Javalin.create(config -> {
            config.showJavalinBanner = false;
            config.http.maxRequestSize = (long) s.maxBodyMb() << 20;
            // the web page at /: static files in the jar, a client of the API like any other
            config.staticFiles.add(files -> {
                files.hostedPath = "/";
                files.directory = WEB_PAGE;
                files.location = Location.CLASSPATH;
            });
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
        return new ApiServer(app, api, queue, served);
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
        served.close();
    }
}
