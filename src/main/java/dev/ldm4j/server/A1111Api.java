package dev.ldm4j.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ldm4j.io.BadRequestException;
import dev.ldm4j.io.ImageFileException;
import dev.ldm4j.io.Images;
import dev.ldm4j.io.ModelFileException;
import dev.ldm4j.model.LatentDiffusionModel;
import dev.ldm4j.model.LoraTags;
import dev.ldm4j.model.ModelConfig;
import dev.ldm4j.pipeline.Generator;
import dev.ldm4j.sampling.SamplerKind;
import dev.ldm4j.sampling.Scheduler;
import dev.ldm4j.text.TextualInversion;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The routes of AUTOMATIC1111's HTTP API ({@code /sdapi/v1/...}) that ldm4j serves, with its paths, field names
 * and response shapes, so that its clients work unchanged. The client's errors answer 422 with a body that
 * names the field; a full queue answers 503 with Retry-After; a body over the size limit 413; a route without
 * the {@code --api-auth} credentials 401; anything else is a bug and answers 500.
 */
final class A1111Api {
    private static final Logger LOG = LoggerFactory.getLogger(A1111Api.class);
    /** Seconds a client is told to wait when the queue is full: about one small generation. */
    static final int RETRY_AFTER_SECONDS = 5;

    /** Schedulers whose levels are picked from the model's own table of 1000 (A1111's need_inner_model). */
    private static final Set<Scheduler> TABLE_SCHEDULERS = Set.of(Scheduler.DISCRETE, Scheduler.SGM_UNIFORM,
            Scheduler.SIMPLE, Scheduler.DDIM_UNIFORM, Scheduler.BETA, Scheduler.LCM);

    /** A1111's latent upscale modes (its shared.latent_upscale_modes), listed for clients that ask. */
    private static final List<String> LATENT_UPSCALE_MODES = List.of("Latent", "Latent (antialiased)",
            "Latent (bicubic)", "Latent (bicubic antialiased)", "Latent (nearest)", "Latent (nearest-exact)");

    /** Set on a request whose error was answered here, so the 404 page does not replace the answer. */
    private static final String ANSWERED = "ldm4j.answered";

    private final ObjectMapper json;
    private final GenerationQueue queue;
    private final JobProgress progress = new JobProgress();
    private final ServedModel served;
    private final ModelCatalog catalog;
    private final LoraLibrary loras;
    private final ServerOptions options;
    private final Map<String, Object> flags;
    private final BasicAuth auth;
    private final Previews previews;
    private final RequestLimits limits;

    /** @param auth the accepted credentials, or null when every client is let in */
    A1111Api(ObjectMapper json, GenerationQueue queue, ServedModel served, ModelCatalog catalog, LoraLibrary loras,
             Map<String, Object> flags, BasicAuth auth, Previews previews, RequestLimits limits) {
        this.previews = previews;
        this.limits = limits;
        this.json = json;
        this.queue = queue;
        this.served = served;
        this.catalog = catalog;
        this.loras = loras;
        this.options = new ServerOptions(() -> served.entry().title());
        this.flags = flags;
        this.auth = auth;
    }

    void register(Javalin app) {
        if (auth != null) {
            app.before("/sdapi/*", ctx -> auth.check(ctx.header("Authorization")));
            app.before("/ldm4j/*", ctx -> auth.check(ctx.header("Authorization")));
        }
        new JobApi(this, queue, progress, json).register(app);
        app.post("/sdapi/v1/txt2img", ctx -> generate(ctx, "txt2img"));
        app.post("/sdapi/v1/img2img", ctx -> generate(ctx, "img2img"));
        app.get("/sdapi/v1/progress", ctx -> send(ctx, progress(!skipCurrentImage(ctx))));
        app.post("/sdapi/v1/interrupt", ctx -> send(ctx, interrupt()));
        app.post("/sdapi/v1/skip", ctx -> {
            progress.skip();
            send(ctx, Map.of());
        });
        app.get("/sdapi/v1/samplers", ctx -> send(ctx, samplers()));
        app.get("/sdapi/v1/schedulers", ctx -> send(ctx, schedulers()));
        app.get("/sdapi/v1/sd-models", ctx -> send(ctx, sdModels()));
        app.post("/sdapi/v1/refresh-checkpoints", ctx -> {
            catalog.refresh();
            send(ctx, null);
        });
        app.get("/sdapi/v1/options", ctx -> send(ctx, options.all()));
        app.post("/sdapi/v1/options", ctx -> {
            JsonNode body = body(ctx);
            Fields f = new Fields(body);
            // a refused name or value changes nothing: both are checked before the switch
            ModelEntry wanted = f.present(ServerOptions.CHECKPOINT)
                    ? catalog.resolve(f.text(ServerOptions.CHECKPOINT, "")) : null;
            options.update(body);
            if (wanted != null) {
                // on the worker: the switch waits for the running job and no job sees it half done
                queue.run(() -> {
                    served.ensure(wanted, List.of());
                    return null;
                });
            }
            send(ctx, null);
        });
        app.get("/sdapi/v1/loras", ctx -> send(ctx, loras.list()));
        app.post("/sdapi/v1/refresh-loras", ctx -> send(ctx, null));
        // ldm4j takes no separate VAE per request yet: an empty list, so that clients that ask at start work
        app.get("/sdapi/v1/sd-vae", ctx -> send(ctx, List.of()));
        app.get("/sdapi/v1/embeddings", ctx -> send(ctx, embeddings(served.model())));
        app.get("/sdapi/v1/upscalers", ctx -> send(ctx, List.of(
                new Bodies.UpscalerItem("None", null, null, null, 4),
                new Bodies.UpscalerItem("Lanczos", null, null, null, 4),
                new Bodies.UpscalerItem("Nearest", null, null, null, 4),
                new Bodies.UpscalerItem("Bicubic", null, null, null, 4))));
        // image-space upscaling is quick: it runs on the request's thread, not the generation queue
        app.post("/sdapi/v1/extra-single-image", ctx -> send(ctx, ExtrasApi.singleImage(new Fields(body(ctx)))));
        app.get("/sdapi/v1/latent-upscale-modes", ctx -> send(ctx,
                LATENT_UPSCALE_MODES.stream().map(Bodies.LatentUpscaleMode::new).toList()));
        app.post("/sdapi/v1/png-info", ctx -> send(ctx, pngInfo(new Fields(body(ctx)))));
        app.get("/sdapi/v1/cmd-flags", ctx -> send(ctx, flags));
        app.exception(Exception.class, this::failed);
        // FastAPI's answer for an unknown path, which A1111's clients know
        app.error(404, ctx -> {
            if (ctx.attribute(ANSWERED) == null) {
                send(ctx, Map.of("detail", "Not Found"));
            }
        });
    }

    /** Runs the request; a client that goes away meanwhile takes its job out of the queue, or stops it. */
    private void generate(Context ctx, String task) throws InterruptedException, JsonProcessingException {
        Object owner = new Object();
        Future<Bodies.Images> job = queue.submit(prepare(task, owner, body(ctx)));
        Bodies.Images answer;
        try (DisconnectWatch watch = DisconnectWatch.start(ctx, () -> {
            if (!queue.withdraw(job)) {
                progress.interrupt(owner);
            }
            LOG.info("{}: the client went away; its job is cancelled", task);
        })) {
            answer = GenerationQueue.await(job);
        } catch (CancellationException gone) {
            return; // withdrawn from the queue for a client that left: there is no one to answer
        }
        send(ctx, answer);
    }

    /**
     * The work of one txt2img or img2img request, for the worker; what can be checked before the queue (the
     * body's shape, the model and LoRA names) is checked now. {@code owner} is who may cancel it.
     */
    Callable<Bodies.Images> prepare(String task, Object owner, JsonNode received) {
        if (!received.isObject()) {
            throw new BadRequestException("the request body must be a JSON object");
        }
        Fields f = new Fields(received);
        limits.check(f);
        JsonNode named = f.object("override_settings").node(ServerOptions.CHECKPOINT);
        ModelEntry wanted = named == null || named.asText("").isBlank() ? null : catalog.resolve(named.asText());
        // the LoRA tags leave the prompt before it is encoded; their names are checked before the queue
        LoraTags.Parsed tags = LoraTags.parse(f.text("prompt", ""));
        List<LoraLibrary.Use> uses = loras.resolve(tags.loras());
        ObjectNode body = ((ObjectNode) received).deepCopy().put("prompt", tags.prompt());
        int clipSkip = options.clipSkip();
        return () -> {
            served.ensure(wanted == null ? served.entry() : wanted, uses);
            ModelEntry entry = served.entry();
            int imageSize = ModelConfig.recommendedImageSize(ModelConfig.configFor(entry.file(), entry.config()))
                    .orElse(512);
            A1111Request.Defaults d = new A1111Request.Defaults(imageSize, clipSkip,
                    served.model().downscaleFactor());
            A1111Request parsed = task.equals("txt2img") ? A1111Request.txt2img(body, d)
                    : A1111Request.img2img(body, d);
            Generator generator = new Generator(served.model(), Generator.Options.DEFAULT.withHires(parsed.hires()));
            A1111Request request = new A1111Request(parsed.iterations(), received, parsed.hires());
            request.iterations().forEach(generator::validate);
            return new ImageJob(generator, progress, previews, json).run(task, owner, request);
        };
    }

    /** The served model's textual-inversion embeddings (none while a switch is loading one). */
    private static Bodies.Embeddings embeddings(LatentDiffusionModel model) {
        Map<String, Bodies.EmbeddingItem> loaded = new LinkedHashMap<>();
        Map<String, Bodies.EmbeddingItem> skipped = new LinkedHashMap<>();
        if (model != null) {
            for (TextualInversion e : model.embeddings().loaded()) {
                loaded.put(e.name(), new Bodies.EmbeddingItem(null, null, null, e.shape(), e.vectors()));
            }
            model.embeddings().skipped().keySet().forEach(name ->
                    skipped.put(name, new Bodies.EmbeddingItem(null, null, null, null, null)));
        }
        return new Bodies.Embeddings(loaded, skipped);
    }

    /** Every checkpoint the server can switch to; the served one with its hash (computed once). */
    private List<Bodies.SdModelItem> sdModels() {
        served.entry().sha256();
        return catalog.entries().stream().map(ModelEntry::item).toList();
    }

    /** A1111's query parameter, in its snake_case or camelCase spelling. */
    private static boolean skipCurrentImage(Context ctx) {
        String v = ctx.queryParam("skip_current_image");
        if (v == null) {
            v = ctx.queryParam("skipCurrentImage");
        }
        return v != null && (v.equalsIgnoreCase("true") || v.equals("1"));
    }

    private Bodies.Progress progress(boolean withImage) {
        JobProgress.Preview preview = withImage ? progress.preview() : null;
        JobProgress.Snapshot s = progress.snapshot();
        double fraction = s.fraction();
        double elapsed = s.running() ? (System.nanoTime() - s.startedNanos()) / 1e9 : 0;
        Map<String, Object> state = new LinkedHashMap<>();
        state.put("skipped", progress.skipped());
        state.put("interrupted", s.interrupted());
        state.put("stopping_generation", false);
        state.put("job", s.job());
        state.put("job_count", queue.waiting() + (s.running() ? 1 : 0));
        state.put("job_timestamp", "0");
        state.put("job_no", s.iteration());
        state.put("sampling_step", s.step());
        state.put("sampling_steps", s.steps());
        String image = preview == null ? null : Base64Images.png(preview.image());
        return new Bodies.Progress(fraction, fraction > 0 ? elapsed / fraction - elapsed : 0, state, image,
                s.running() ? "Sampling step " + s.step() + "/" + s.steps() : null);
    }

    Map<String, Object> interrupt() {
        progress.interrupt();
        return Map.of();
    }

    private static List<Bodies.SamplerItem> samplers() {
        List<Bodies.SamplerItem> out = new ArrayList<>();
        for (SamplerKind k : SamplerKind.values()) {
            out.add(new Bodies.SamplerItem(k.a1111Name(), List.of(k.cliName()), Map.of()));
        }
        return out;
    }

    private static List<Bodies.SchedulerItem> schedulers() {
        List<Bodies.SchedulerItem> out = new ArrayList<>();
        out.add(new Bodies.SchedulerItem("automatic", "Automatic", null, -1.0, false));
        for (Scheduler s : Scheduler.values()) {
            String name = s.a1111Name().toLowerCase(java.util.Locale.ROOT).replace(' ', '_');
            out.add(new Bodies.SchedulerItem(name, s.a1111Name(), name.equals(s.cliName()) ? null
                    : List.of(s.cliName()), s == Scheduler.KARRAS ? 7.0 : -1.0, TABLE_SCHEDULERS.contains(s)));
        }
        return out;
    }

    private static Bodies.PngInfo pngInfo(Fields f) {
        String image = f.text("image", null);
        if (image == null || image.isBlank()) {
            throw new BadRequestException("field 'image' is required (a base64 PNG)");
        }
        Map<String, String> text = new LinkedHashMap<>(Base64Images.pngText("image", image));
        String info = text.remove(Images.PARAMETERS);
        return new Bodies.PngInfo(info == null ? "" : info, text, InfoText.parse(info));
    }

    JsonNode body(Context ctx) {
        try {
            return json.readTree(ctx.body());
        } catch (JsonProcessingException e) {
            throw new BadRequestException("the request body is not valid JSON (" + e.getOriginalMessage() + ")");
        }
    }

    void send(Context ctx, Object body) throws JsonProcessingException {
        ctx.contentType("application/json").result(json.writeValueAsString(body));
    }

    /** How an exception is answered: its HTTP status and body. */
    record Failure(int status, Object body) {}

    /** The status and body of {@code e}: 422 for a bad request, 503 for a full queue, 500 for a bug. */
    static Failure failure(Exception e) {
        int status;
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        if (e instanceof BasicAuth.Unauthorized) {
            // FastAPI's HTTPBasic answer, which A1111's clients know
            return new Failure(401, Map.of("detail", message));
        } else if (e instanceof HttpResponseException h) {
            // Javalin's own: 413 for a body over --max-body-mb, 404 for an unknown job
            status = h.getStatus();
        } else if (e instanceof GenerationQueue.Full) {
            status = 503;
        } else if (e instanceof JobApi.NotFound) {
            status = 404;
        } else if (e instanceof BadRequestException || e instanceof ModelFileException
                || e instanceof ImageFileException) {
            status = 422;
        } else {
            status = 500;
        }
        return new Failure(status, new Bodies.Error(status == 422 ? "ValidationError" : e.getClass().getSimpleName(),
                message, "", message));
    }

    private void failed(Exception e, Context ctx) {
        Failure f = failure(e);
        ctx.attribute(ANSWERED, true);
        if (e instanceof BasicAuth.Unauthorized) {
            ctx.header("WWW-Authenticate", "Basic");
        } else if (e instanceof GenerationQueue.Full) {
            ctx.header("Retry-After", String.valueOf(RETRY_AFTER_SECONDS));
        } else if (f.status() == 500) {
            LOG.error("internal error on {} {}", ctx.method(), ctx.path(), e);
        }
        try {
            send(ctx.status(f.status()), f.body());
        } catch (JsonProcessingException impossible) {
            ctx.status(500).result(String.valueOf(e.getMessage()));
        }
    }
}
