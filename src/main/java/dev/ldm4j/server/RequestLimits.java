package dev.ldm4j.server;

import dev.ldm4j.io.BadRequestException;
import dev.ldm4j.pipeline.GenerationRequest;

/**
 * What one request may ask of the server ({@code serve --max-size --max-steps --max-batch}), checked before it is
 * queued: a client cannot hold the worker for hours or ask for more memory than the machine has. The image
 * size bounds the final one, after a hires fix's upscale too.
 *
 * @param maxSize  the most pixels a side of an image may have
 * @param maxSteps the most sampling steps (of each pass)
 * @param maxBatch the most images a request may make (batch_size x n_iter)
 */
public record RequestLimits(int maxSize, int maxSteps, int maxBatch) {
    /** {@code serve}'s defaults: 2048 pixels a side (SDXL's 1024 with a 2x hires fix), 150 steps, 8 images. */
    public static final RequestLimits DEFAULT = new RequestLimits(2048, 150, 8);
    /** Only what a generation request allows anyway: for a server embedded by a caller who bounds its clients. */
    public static final RequestLimits NONE = new RequestLimits(1 << 14, GenerationRequest.MAX_STEPS, Integer.MAX_VALUE);

    public RequestLimits {
        if (maxSize < 8 || maxSteps < 1 || maxBatch < 1) {
            throw new BadRequestException("limits must be at least 8 pixels, 1 step and 1 image; got " + maxSize
                    + ", " + maxSteps + ", " + maxBatch);
        }
    }

    /** Refuses a txt2img or img2img body that asks for more, naming the field and the flag that sets the bound. */
    void check(Fields f) {
        int width = (int) Math.min(Integer.MAX_VALUE, f.integer("width", 0));
        int height = (int) Math.min(Integer.MAX_VALUE, f.integer("height", 0));
        side("width", width);
        side("height", height);
        if (f.bool("enable_hr", false)) {
            double scale = f.number("hr_scale", 2.0);
            long hrWidth = f.integer("hr_resize_x", 0) > 0 ? f.integer("hr_resize_x", 0) : Math.round(width * scale);
            long hrHeight = f.integer("hr_resize_y", 0) > 0 ? f.integer("hr_resize_y", 0)
                    : Math.round(height * scale);
            side("hr_scale", hrWidth);
            side("hr_scale", hrHeight);
            long hrSteps = f.integer("hr_second_pass_steps", 0);
            if (hrSteps > maxSteps) {
                throw new BadRequestException("field 'hr_second_pass_steps' is " + hrSteps + "; this server allows at"
                        + " most " + maxSteps + " steps (serve --max-steps)");
            }
        }
        long steps = f.integer("steps", 0);
        if (steps > maxSteps) {
            throw new BadRequestException("field 'steps' is " + steps + "; this server allows at most " + maxSteps
                    + " steps (serve --max-steps)");
        }
        long images = Math.max(1, f.integer("batch_size", 1)) * Math.max(1, f.integer("n_iter", 1));
        if (images > maxBatch) {
            throw new BadRequestException("fields 'batch_size' x 'n_iter' ask for " + images + " images; this server "
                    + "makes at most " + maxBatch + " a request (serve --max-batch)");
        }
    }

    private void side(String field, long pixels) {
        if (pixels > maxSize) {
            throw new BadRequestException("field '" + field + "' asks for an image side of " + pixels
                    + " pixels; this server allows at most " + maxSize + " (serve --max-size)");
        }
    }
}
