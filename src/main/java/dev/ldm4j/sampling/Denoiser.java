package dev.ldm4j.sampling;

import static dev.ldm4j.nn.Ops.s;

import dev.ldm4j.nn.Tensors;
import java.util.Objects;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * A model function together with what it predicts and the schedule it was trained on: the conversions the
 * samplers need between the raw output (eps or v), the noise eps and the clean latent x0.
 *
 * <p>Two views of the same model: at an integer DDPM timestep t (CompVis samplers; a = alphas_cumprod[t],
 * x_t = sqrt(a) x0 + sqrt(1 - a) eps) and at a noise level sigma (k-diffusion samplers; x = x0 + sigma eps,
 * the model sees x / sqrt(sigma^2 + 1) at the fractional timestep t(sigma), as CompVisDenoiser /
 * CompVisVDenoiser).
 */
public record Denoiser(ModelFn model, Prediction prediction, NoiseSchedule schedule) {
    public Denoiser {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(prediction, "prediction");
        Objects.requireNonNull(schedule, "schedule");
    }

    /** The model's noise and clean-latent estimates for x at an integer timestep. */
    public record Estimate(Tensor eps, Tensor x0) {}

    /** Evaluates the model at integer timestep t and converts its output to eps and x0. */
    public Estimate estimate(Tensor x, int t) {
        Tensor out = model.apply(x, timesteps(x, t));
        if (prediction == Prediction.EPS) {
            return new Estimate(out, x0FromEps(x, out, t));
        }
        float a = schedule.alphaCumprod(t);
        Scalar sa = s(Math.sqrt(a));
        Scalar s1m = s(Math.sqrt(1.0 - a));
        Tensor eps = out.mul(sa).add(x, s1m);
        Tensor x0 = x.mul(sa).sub(out, s1m);
        return new Estimate(eps, x0);
    }

    /** The noise estimate at integer timestep t. */
    public Tensor eps(Tensor x, int t) {
        if (prediction == Prediction.EPS) {
            return model.apply(x, timesteps(x, t));
        }
        return estimate(x, t).eps();
    }

    /** x0 = (x - sqrt(1 - a) eps) / sqrt(a), with float32 coefficients like CompVis's DDIM buffers. */
    public Tensor x0FromEps(Tensor x, Tensor eps, int t) {
        float a = schedule.alphaCumprod(t);
        float sqrtOneMinusA = (float) Math.sqrt(1f - a);
        float sqrtA = (float) Math.sqrt(a);
        return x.sub(eps, s(sqrtOneMinusA)).div(s(sqrtA));
    }

    /** k-diffusion's denoiser: the clean-latent prediction for x at noise level sigma. */
    public Tensor denoise(Tensor x, float sigma) {
        float variance = sigma * sigma + 1f;
        float cIn = 1f / (float) Math.sqrt(variance);
        return toDenoised(x, model.apply(x.mul(s(cIn)), timesteps(x, schedule.timestepOf(sigma))), sigma);
    }

    /** The guided and the unconditional clean-latent predictions of a guided evaluation. */
    public record Branches(Tensor denoised, Tensor unconditional) {}

    /**
     * {@link #denoise} with the unconditional branch beside it (for the CFG++ samplers); a model without
     * guidance (scale 1) gives its one prediction as both.
     */
    public Branches denoiseBoth(Tensor x, float sigma) {
        if (!(model instanceof GuidedModelFn guided)) {
            Tensor d = denoise(x, sigma);
            return new Branches(d, d);
        }
        float cIn = 1f / (float) Math.sqrt(sigma * sigma + 1f);
        GuidedModelFn.Branches out = guided.both(x.mul(s(cIn)), timesteps(x, schedule.timestepOf(sigma)));
        return new Branches(toDenoised(x, out.guided(), sigma), toDenoised(x, out.unconditional(), sigma));
    }

    private Tensor toDenoised(Tensor x, Tensor out, float sigma) {
        float variance = sigma * sigma + 1f;
        if (prediction == Prediction.EPS) {
            return x.add(out, s(-sigma));
        }
        float cSkip = 1f / variance;
        float cOut = -sigma / (float) Math.sqrt(variance);
        return out.mul(s(cOut)).add(x, s(cSkip));
    }

    /** t repeated over x's batch, float32 on x's device. */
    static Tensor timesteps(Tensor x, float t) {
        Tensor ts = torch.full(new long[] {x.size(0)}, new Scalar(t), Tensors.options(ScalarType.Float));
        return x.is_cpu() ? ts : ts.to(x.device(), ScalarType.Float);
    }
}
