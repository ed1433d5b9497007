package dev.ldm4j.sampling;

import static dev.ldm4j.nn.Ops.s;

import org.bytedeco.pytorch.Tensor;

/** Base of the k-diffusion samplers: they walk {@link Sigmas} from any scheduler. */
abstract class SigmaSampler extends LoopSampler<Sigmas> {
    SigmaSampler(SamplerKind kind) {
        super(kind, Sigmas.class);
    }

    @Override
    public Sigmas plan(NoiseSchedule schedule, Scheduler scheduler, int steps) {
        return scheduler.sigmas(schedule, steps);
    }

    /** k-diffusion to_d: the ODE derivative (x - denoised) / sigma. */
    static Tensor derivative(Tensor x, Tensor denoised, float sigma) {
        return x.sub(denoised).div(s(sigma));
    }
}
