package dev.ldm4j.sampling;

/**
 * "Align Your Steps" (Sabour et al., NVIDIA 2024): noise levels optimised for 10 steps of one model family,
 * stretched to other step counts by linear interpolation of log sigma. The tables and the stretching are
 * AUTOMATIC1111's (modules/sd_schedulers.py, get_align_your_steps_sigmas): 11 levels taken as 11 steps, then
 * 0; any other count interpolates to {@code steps} levels, then 0. stable-diffusion.cpp's {@code ays} differs
 * in the last digits of its tables and ends its 10-step run at 0 instead of 0.029.
 */
public enum AlignYourSteps {
    /** SD 1.5's table; AUTOMATIC1111 uses it for every family but SDXL. */
    SD1(14.615, 6.475, 3.861, 2.697, 1.886, 1.396, 0.963, 0.652, 0.399, 0.152, 0.029),
    SDXL(14.615, 6.315, 3.771, 2.181, 1.342, 0.862, 0.555, 0.380, 0.234, 0.113, 0.029);

    private final double[] levels;

    AlignYourSteps(double... levels) {
        this.levels = levels;
    }

    /** steps levels, descending, then 0. */
    float[] sigmas(int steps) {
        float[] out = new float[steps + 1];
        if (steps == levels.length) {
            for (int i = 0; i < steps; i++) {
                out[i] = (float) levels[i];
            }
            return out;
        }
        // numpy.interp over the ascending table (log sigma against linspace(0, 1)), read back descending
        int n = levels.length;
        for (int i = 0; i < steps; i++) {
            double x = steps == 1 ? 0.0 : (double) i / (steps - 1);
            double pos = x * (n - 1);
            int lo = Math.min((int) Math.floor(pos), n - 2);
            double w = pos - lo;
            double a = Math.log(levels[n - 1 - lo]);
            double b = Math.log(levels[n - 2 - lo]);
            out[steps - 1 - i] = (float) Math.exp(a + w * (b - a));
        }
        return out;
    }
}
