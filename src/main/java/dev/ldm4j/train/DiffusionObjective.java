package dev.ldm4j.train;

import dev.ldm4j.nn.Tensors;
import dev.ldm4j.sampling.NoiseSchedule;
import dev.ldm4j.sampling.Prediction;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The denoising objective of latent diffusion at integer timesteps t of a {@link NoiseSchedule}:
 * {@code x_t = sqrt(a_t) x0 + sqrt(1 - a_t) noise}; the model is asked for the noise (eps) or for
 * {@code v = sqrt(a_t) noise - sqrt(1 - a_t) x0}; the loss is the mean squared error per example, optionally
 * weighted by min-SNR-gamma ({@code min(SNR, gamma) / SNR} for eps, {@code min(SNR, gamma) / (SNR + 1)} for
 * v, SNR = a_t / (1 - a_t)), averaged over the batch.
 *
 * <p>The per-timestep coefficients are computed in float64 from the schedule's float32 alphas_cumprod and
 * stored as float32 tables, as the reference precomputes its buffers.
 */
public final class DiffusionObjective {
    private final NoiseSchedule schedule;
    private final Prediction prediction;
    private final double minSnrGamma;
    private final Tensor sqrtAlpha;
    private final Tensor sqrtOneMinusAlpha;
    private final Tensor weight;

    public DiffusionObjective(NoiseSchedule schedule, Prediction prediction, double minSnrGamma) {
        this.schedule = schedule;
        this.prediction = prediction;
        this.minSnrGamma = minSnrGamma;
        int n = schedule.size();
        float[] sa = new float[n];
        float[] s1a = new float[n];
        float[] w = new float[n];
        for (int t = 0; t < n; t++) {
            double a = schedule.alphaCumprod(t);
            sa[t] = (float) Math.sqrt(a);
            s1a[t] = (float) Math.sqrt(1 - a);
            w[t] = (float) weightOf(a);
        }
        this.sqrtAlpha = Tensors.retain(Tensors.fromFloats(sa, n));
        this.sqrtOneMinusAlpha = Tensors.retain(Tensors.fromFloats(s1a, n));
        this.weight = Tensors.retain(Tensors.fromFloats(w, n));
    }

    public NoiseSchedule schedule() {
        return schedule;
    }

    public Prediction prediction() {
        return prediction;
    }

    public int timesteps() {
        return schedule.size();
    }

    /** The loss weight of a timestep with alphas_cumprod {@code a}: 1 without min-SNR weighting. */
    double weightOf(double a) {
        if (minSnrGamma == 0) {
            return 1.0;
        }
        double snr = a / (1 - a);
        double clipped = Math.min(snr, minSnrGamma);
        return prediction == Prediction.V ? clipped / (snr + 1) : clipped / snr;
    }

    /** x_t for clean latents x0 [B, C, h, w], unit noise of the same shape and timesteps t [B] (int64). */
    public Tensor noised(Tensor x0, Tensor noise, Tensor t) {
        return x0.mul(coefficient(sqrtAlpha, t)).add(noise.mul(coefficient(sqrtOneMinusAlpha, t)));
    }

    /** What the model should output at x_t: the noise, or v. */
    public Tensor target(Tensor x0, Tensor noise, Tensor t) {
        if (prediction == Prediction.EPS) {
            return noise;
        }
        return noise.mul(coefficient(sqrtAlpha, t)).sub(x0.mul(coefficient(sqrtOneMinusAlpha, t)));
    }

    /** Loss weights [B] of timesteps t. */
    public Tensor weights(Tensor t) {
        return weight.index_select(0, t);
    }

    /** The scalar loss of model output {@code output} against {@code target}, both [B, C, h, w]. */
    public Tensor loss(Tensor output, Tensor target, Tensor t) {
        Tensor perExample = output.sub(target).square().mean(1, 2, 3);
        if (minSnrGamma != 0) {
            perExample = perExample.mul(weights(t));
        }
        return perExample.mean();
    }

    private static Tensor coefficient(Tensor table, Tensor t) {
        return table.index_select(0, t).view(t.size(0), 1, 1, 1);
    }
}
