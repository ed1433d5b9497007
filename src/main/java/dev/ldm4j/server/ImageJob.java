package dev.ldm4j.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ldm4j.io.RgbImage;
import dev.ldm4j.nn.ImageTensors;
import dev.ldm4j.pipeline.GenerationRequest;
import dev.ldm4j.pipeline.GenerationResult;
import dev.ldm4j.pipeline.Generator;
import dev.ldm4j.pipeline.Parameters;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs one txt2img or img2img request on the worker thread: its iterations in order, each image a PNG with the
 * {@code parameters} text the CLI writes. An interrupt ends the job after the iteration it stops: the answer
 * holds the images of the iterations finished before it (none when it was the first), and its info says
 * {@code "interrupted": true}; A1111's decode of the half-denoised latent is not done. A skip drops the iteration
 * it stops (no image of it) and the job goes on with the next, as A1111's skip does.
 */
final class ImageJob {
    private final Generator generator;
    private final JobProgress progress;
    private final Previews previews;
    private final ObjectMapper json;

    ImageJob(Generator generator, JobProgress progress, Previews previews, ObjectMapper json) {
        this.generator = generator;
        this.progress = progress;
        this.previews = previews;
        this.json = json;
    }

    /**
     * @param task  the job's name in the progress state
     * @param owner who asked for it, as {@link JobProgress#interrupt(Object)} names it
     */
    Bodies.Images run(String task, Object owner, A1111Request request) {
        List<String> images = new ArrayList<>();
        List<String> infotexts = new ArrayList<>();
        List<Long> seeds = new ArrayList<>();
        boolean interrupted = false;
        progress.start(task, request.iterations().size(), owner);
        try {
            for (int i = 0; i < request.iterations().size() && !interrupted; i++) {
                GenerationRequest r = request.iterations().get(i);
                progress.iteration(i, generator.plannedSteps(r));
                try (GenerationResult result = generator.generate(r,
                        progress.listener(denoised -> previews.of(denoised, generator.model())))) {
                    String text = Parameters.a1111(r, generator.model().name(), request.hires());
                    for (RgbImage image : ImageTensors.toRgb8(result.images())) {
                        images.add(Base64Images.png(image, text));
                        infotexts.add(text);
                        // one x_T for the batch: each image is reproduced by the iteration's seed and batch size
                        seeds.add(r.seed());
                    }
                } catch (JobProgress.Interrupted e) {
                    interrupted = !progress.skipped() || progress.interrupted();
                }
                interrupted |= progress.interrupted();
            }
        } finally {
            progress.finish();
        }
        return new Bodies.Images(images, echo(request.received()), info(request, seeds, infotexts, interrupted));
    }

    /** The request as received, without the input images (A1111 leaves them out unless include_init_images). */
    private JsonNode echo(JsonNode received) {
        ObjectNode copy = ((ObjectNode) received).deepCopy();
        if (!received.path("include_init_images").asBoolean(false)) {
            if (copy.has("init_images")) {
                copy.putNull("init_images");
            }
            if (copy.has("mask")) {
                copy.putNull("mask");
            }
        }
        return copy;
    }

    private String info(A1111Request request, List<Long> seeds, List<String> infotexts, boolean interrupted) {
        GenerationRequest first = request.iterations().get(0);
        ObjectNode info = json.createObjectNode();
        info.put("prompt", first.prompt());
        info.putArray("all_prompts").addAll(repeat(first.prompt(), seeds.size()));
        info.put("negative_prompt", first.negativePrompt());
        info.putArray("all_negative_prompts").addAll(repeat(first.negativePrompt(), seeds.size()));
        info.put("seed", first.seed());
        ArrayNode all = info.putArray("all_seeds");
        seeds.forEach(all::add);
        info.put("subseed", -1);
        info.putArray("all_subseeds");
        info.put("subseed_strength", 0);
        info.put("width", first.width());
        info.put("height", first.height());
        info.put("sampler_name", Parameters.sampler(first));
        info.put("scheduler", Parameters.scheduler(first).a1111Name());
        info.put("cfg_scale", first.cfgScale());
        info.put("steps", first.steps());
        info.put("batch_size", first.batchSize());
        info.put("n_iter", request.iterations().size());
        info.put("restore_faces", false);
        info.put("sd_model_name", generator.model().name());
        info.put("seed_resize_from_w", -1);
        info.put("seed_resize_from_h", -1);
        if (request.hires() != null) {
            info.put("denoising_strength", request.hires().denoise());
        } else if (first.init() != null) {
            info.put("denoising_strength", first.init().strength());
        } else {
            info.putNull("denoising_strength");
        }
        info.putObject("extra_generation_params");
        info.put("index_of_first_image", 0);
        ArrayNode texts = info.putArray("infotexts");
        infotexts.forEach(texts::add);
        info.putArray("styles");
        info.put("clip_skip", Math.max(1, first.clipSkip()));
        info.put("is_using_inpainting_conditioning", generator.model().config().inpainting());
        info.put("interrupted", interrupted);
        info.put("version", "ldm4j");
        try {
            return json.writeValueAsString(info);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e); // a tree of plain values always serializes
        }
    }

    private ArrayNode repeat(String value, int n) {
        ArrayNode a = json.createArrayNode();
        for (int i = 0; i < n; i++) {
            a.add(value);
        }
        return a;
    }
}
