package dev.ldm4j.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ldm4j.io.BadRequestException;
import dev.ldm4j.io.ImageFileException;
import dev.ldm4j.io.Images;
import dev.ldm4j.io.ModelFileException;
import dev.ldm4j.model.LoraTags;
import dev.ldm4j.model.ModelConfig;
import dev.ldm4j.pipeline.Generator;
import dev.ldm4j.sampling.SamplerKind;
import dev.ldm4j.sampling.Scheduler;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
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

    private final ObjectMapper json;
    private final GenerationQueue queue;
    private final JobProgress progress = new JobProgress();
    private final ServedModel served;
    private final ModelCatalog catalog;
    private final LoraLibrary loras;
    private final ServerOptions options;
    private final Map<String, Object> flags;
    private final BasicAuth auth;

    /** @param auth the accepted credentials, or null when every client is let in */
    A1111Api(ObjectMapper json, GenerationQueue queue, ServedModel served, ModelCatalog catalog, LoraLibrary loras,
             Map<String, Object> flags, BasicAuth auth) {
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
        }
        app.post("/sdapi/v1/txt2img", ctx -> generate(ctx, "txt2img"));
        app.post("/sdapi/v1/img2img", ctx -> generate(ctx, "img2img"));
        app.get("/sdapi/v1/progress", ctx -> send(ctx, progress()));
        app.post("/sdapi/v1/interrupt", ctx -> send(ctx, interrupt()));
        // skipping one image of a batch is not possible inside one sampler run: it stops the job as interrupt does
        app.post("/sdapi/v1/skip", ctx -> send(ctx, interrupt()));
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
        // ldm4j takes no separate VAE per request or embeddings yet: empty lists, so that clients that ask at
        // start work
        app.get("/sdapi/v1/sd-vae", ctx -> send(ctx, List.of()));
        app.get("/sdapi/v1/embeddings", ctx -> send(ctx, new Bodies.Embeddings(Map.of(), Map.of())));
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
        app.error(404, ctx -> send(ctx, Map.of("detail", "Not Found")));
    }

    private void generate(Context ctx, String task) throws InterruptedException, JsonProcessingException {
        JsonNode received = body(ctx);
        if (!received.isObject()) {
            throw new BadRequestException("the request body must be a JSON object");
        }
        Fields f = new Fields(received);
        JsonNode named = f.object("override_settings").node(ServerOptions.CHECKPOINT);
        ModelEntry wanted = named == null || named.asText("").isBlank() ? null : catalog.resolve(named.asText());
        // the LoRA tags leave the prompt before it is encoded; their names are checked before the queue
        LoraTags.Parsed tags = LoraTags.parse(f.text("prompt", ""));
        List<LoraLibrary.Use> uses = loras.resolve(tags.loras());
        ObjectNode body = ((ObjectNode) received).deepCopy().put("prompt", tags.prompt());
        int clipSkip = options.clipSkip();
        send(ctx, queue.run(() -> {
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
            return new ImageJob(generator, progress, json).run(task, request);
        }));
    }

    /** Every checkpoint the server can switch to; the served one with its hash (computed once). */
    private List<Bodies.SdModelItem> sdModels() {
        served.entry().sha256();
        return catalog.entries().stream().map(ModelEntry::item).toList();
    }

    private Bodies.Progress progress() {
        JobProgress.Snapshot s = progress.snapshot();
        double fraction = s.fraction();
        double elapsed = s.running() ? (System.nanoTime() - s.startedNanos()) / 1e9 : 0;
        Map<String, Object> state = new LinkedHashMap<>();
        state.put("skipped", false);
        state.put("interrupted", s.interrupted());
        state.put("stopping_generation", false);
        state.put("job", s.job());
        state.put("job_count", queue.waiting() + (s.running() ? 1 : 0));
        state.put("job_timestamp", "0");
        state.put("job_no", s.iteration());
        state.put("sampling_step", s.step());
        state.put("sampling_steps", s.steps());
        return new Bodies.Progress(fraction, fraction > 0 ? elapsed / fraction - elapsed : 0, state, null,
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

    private JsonNode body(Context ctx) {
        try {
            return json.readTree(ctx.body());
        } catch (JsonProcessingException e) {
            throw new BadRequestException("the request body is not valid JSON (" + e.getOriginalMessage() + ")");
        }
    }

    private void send(Context ctx, Object body) throws JsonProcessingException {
        ctx.contentType("application/json").result(json.writeValueAsString(body));
    }

    private void failed(Exception e, Context ctx) {
        int status;
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        Object body = null;
        if (e instanceof BasicAuth.Unauthorized) {
            status = 401;
            ctx.header("WWW-Authenticate", "Basic");
            body = Map.of("detail", message); // FastAPI's HTTPBasic answer, which A1111's clients know
        } else if (e instanceof HttpResponseException h) {
            // Javalin's own: 413 for a body over --max-body-mb
            status = h.getStatus();
        } else if (e instanceof GenerationQueue.Full) {
            status = 503;
            ctx.header("Retry-After", String.valueOf(RETRY_AFTER_SECONDS));
        } else if (e instanceof BadRequestException || e instanceof ModelFileException
                || e instanceof ImageFileException) {
            status = 422;
        } else {
            status = 500;
            LOG.error("internal error on {} {}", ctx.method(), ctx.path(), e);
        }
        if (body == null) {
            body = new Bodies.Error(status == 422 ? "ValidationError" : e.getClass().getSimpleName(), message, "",
                    message);
        }
        try {
            send(ctx.status(status), body);
        } catch (JsonProcessingException impossible) {
            ctx.status(500).result(message);
        }
    }
}
