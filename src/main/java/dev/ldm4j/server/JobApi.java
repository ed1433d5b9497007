package dev.ldm4j.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ldm4j.io.BadRequestException;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.sse.SseClient;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.Future;

/**
 * ldm4j's job API, for callers that would rather not hold a connection open while an image is made:
 * <ul>
 *   <li>{@code POST /ldm4j/v1/jobs} with a txt2img or img2img body of the AUTOMATIC1111 API (img2img when it has
 *       {@code init_images}, or as {@code "task"} says) answers 202 with the job: its id and state;</li>
 *   <li>{@code GET /ldm4j/v1/jobs/{id}}: state (queued, running, done, failed, cancelled), progress, and the
 *       txt2img answer when done (the images finished before a cancel, too) or the error when failed;</li>
 *   <li>{@code DELETE /ldm4j/v1/jobs/{id}} cancels: a queued job never runs, a running one stops at its next
 *       step;</li>
 *   <li>{@code GET /ldm4j/v1/jobs/{id}/events}: Server-Sent Events, {@code progress} (with a preview of the
 *       step, see {@link Previews}) while it runs, then one {@code done}, {@code failed} or {@code cancelled}
 *       event carrying the job.</li>
 * </ul>
 * Jobs share the worker and its bounded queue with the A1111 routes (a full queue is a 503). The last
 * {@value #KEEP_FINISHED} finished jobs are kept for their callers to fetch.
 */
final class JobApi {
    static final int KEEP_FINISHED = 64;
    /** How often an event stream looks at its job. */
    private static final long POLL_MILLIS = 100;
    /** A comment line this often keeps proxies from closing a quiet stream. */
    private static final long KEEP_ALIVE_MILLIS = 15_000;

    /** No such job (never made, or evicted): a 404. */
    static final class NotFound extends RuntimeException {
        NotFound(String message) {
            super(message, null, false, false);
        }
    }

    enum State {
        QUEUED, RUNNING, DONE, FAILED, CANCELLED;

        boolean finished() {
            return this == DONE || this == FAILED || this == CANCELLED;
        }

        String json() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** One job; its fields are written by the worker and read by request threads. */
    private static final class Job {
        final String id = UUID.randomUUID().toString();
        final String task;
        final Instant created = Instant.now();
        volatile State state = State.QUEUED;
        volatile Instant started;
        volatile Instant finished;
        volatile boolean cancelRequested;
        volatile Bodies.Images result;
        volatile A1111Api.Failure failure;
        volatile Future<?> future;

        Job(String task) {
            this.task = task;
        }
    }

    private final A1111Api api;
    private final GenerationQueue queue;
    private final JobProgress progress;
    private final ObjectMapper json;
    /** Oldest first; guarded by this. */
    private final Map<String, Job> jobs = new LinkedHashMap<>();

    JobApi(A1111Api api, GenerationQueue queue, JobProgress progress, ObjectMapper json) {
        this.api = api;
        this.queue = queue;
        this.progress = progress;
        this.json = json;
    }

    void register(Javalin app) {
        app.post("/ldm4j/v1/jobs", this::create);
        app.get("/ldm4j/v1/jobs/{id}", ctx -> api.send(ctx, view(find(ctx.pathParam("id")), true)));
        app.delete("/ldm4j/v1/jobs/{id}", ctx -> api.send(ctx, view(cancel(find(ctx.pathParam("id"))), true)));
        // an unknown id is a 404 before the stream's headers go out
        app.before("/ldm4j/v1/jobs/{id}/events", ctx -> find(ctx.pathParam("id")));
        app.sse("/ldm4j/v1/jobs/{id}/events", this::events);
    }

    private void create(Context ctx) throws JsonProcessingException {
        JsonNode body = api.body(ctx);
        if (!body.isObject()) {
            throw new BadRequestException("the request body must be a JSON object");
        }
        String task = body.path("task").asText(body.has("init_images") ? "img2img" : "txt2img");
        if (!task.equals("txt2img") && !task.equals("img2img")) {
            throw new BadRequestException("field 'task' must be \"txt2img\" or \"img2img\", got \"" + task + "\"");
        }
        ObjectNode request = ((ObjectNode) body).deepCopy();
        request.remove("task");
        Job job = new Job(task);
        Callable<Bodies.Images> work = api.prepare(task, job, request);
        synchronized (this) {
            job.future = queue.submit(() -> run(job, work));
            jobs.put(job.id, job);
            evictFinished();
        }
        ctx.status(202).header("Location", "/ldm4j/v1/jobs/" + job.id);
        api.send(ctx, view(job, false));
    }

    /** On the worker. */
    private Void run(Job job, Callable<Bodies.Images> work) {
        if (job.cancelRequested) {
            finish(job, State.CANCELLED);
            return null;
        }
        job.started = Instant.now();
        job.state = State.RUNNING;
        try {
            job.result = work.call();
            finish(job, job.cancelRequested ? State.CANCELLED : State.DONE);
        } catch (Exception e) {
            job.failure = A1111Api.failure(e);
            finish(job, State.FAILED);
        }
        return null;
    }

    private static void finish(Job job, State state) {
        job.finished = Instant.now();
        job.state = state;
    }

    private synchronized Job find(String id) {
        Job job = jobs.get(id);
        if (job == null) {
            throw new NotFound("no job '" + id + "' (finished jobs are kept until " + KEEP_FINISHED
                    + " newer ones have finished)");
        }
        return job;
    }

    private Job cancel(Job job) {
        job.cancelRequested = true;
        synchronized (this) {
            if (job.state == State.QUEUED && queue.withdraw(job.future)) {
                finish(job, State.CANCELLED);
                return job;
            }
        }
        // running: it stops at its next step; the worker marks it cancelled
        progress.interrupt(job);
        return job;
    }

    private synchronized void evictFinished() {
        int finished = (int) jobs.values().stream().filter(j -> j.state.finished()).count();
        Iterator<Job> it = jobs.values().iterator();
        while (finished > KEEP_FINISHED && it.hasNext()) {
            if (it.next().state.finished()) {
                it.remove();
                finished--;
            }
        }
    }

    private synchronized int position(Job job) {
        int ahead = 0;
        for (Job j : jobs.values()) {
            if (j == job) {
                return ahead;
            }
            if (j.state == State.QUEUED) {
                ahead++;
            }
        }
        return ahead;
    }

    /** The job as JSON; {@code withResult}: with its images or error. */
    private ObjectNode view(Job job, boolean withResult) {
        State state = job.state;
        ObjectNode v = json.createObjectNode();
        v.put("id", job.id);
        v.put("task", job.task);
        v.put("state", state.json());
        v.put("created", job.created.toString());
        v.put("started", job.started == null ? null : job.started.toString());
        v.put("finished", job.finished == null ? null : job.finished.toString());
        if (state == State.QUEUED) {
            v.put("queue_position", position(job));
        }
        ObjectNode p = v.putObject("progress");
        JobProgress.Snapshot s = progress.snapshot();
        boolean mine = state == State.RUNNING && progress.runs(job);
        p.put("fraction", state == State.DONE ? 1.0 : mine ? s.fraction() : 0.0);
        p.put("iteration", mine ? s.iteration() : 0);
        p.put("iterations", mine ? s.iterations() : 0);
        p.put("step", mine ? s.step() : 0);
        p.put("steps", mine ? s.steps() : 0);
        if (withResult && job.result != null) {
            v.set("result", json.valueToTree(job.result));
        }
        if (withResult && job.failure != null) {
            v.put("status", job.failure.status());
            v.set("error", json.valueToTree(job.failure.body()));
        }
        return v;
    }

    private void events(SseClient client) {
        Job job;
        try {
            job = find(client.ctx().pathParam("id"));
        } catch (NotFound e) {
            client.close();
            return;
        }
        List<Object> last = List.of();
        int lastPreview = -1;
        long quietSince = System.currentTimeMillis();
        while (!client.terminated()) {
            State state = job.state;
            if (state.finished()) {
                client.sendEvent(state == State.DONE ? "done" : state.json(), text(view(job, true)));
                break;
            }
            ObjectNode v = view(job, false);
            JobProgress.Preview preview = state == State.RUNNING ? progress.preview() : null;
            List<Object> now = new ArrayList<>(List.of(v.path("state").asText(), v.path("progress").toString()));
            boolean newPreview = preview != null && preview.step() != lastPreview
                    && progress.runs(job);
            if (!now.equals(last) || newPreview) {
                if (newPreview) {
                    v.put("preview", Base64Images.png(preview.image()));
                    v.put("preview_step", preview.step());
                    lastPreview = preview.step();
                }
                client.sendEvent("progress", text(v));
                last = now;
                quietSince = System.currentTimeMillis();
            } else if (System.currentTimeMillis() - quietSince > KEEP_ALIVE_MILLIS) {
                client.sendComment("keep-alive");
                quietSince = System.currentTimeMillis();
            }
            try {
                Thread.sleep(POLL_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        client.close();
    }

    private String text(JsonNode node) {
        try {
            return json.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e); // a tree of plain values always serializes
        }
    }
}
