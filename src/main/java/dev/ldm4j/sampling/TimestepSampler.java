package dev.ldm4j.sampling;

import dev.ldm4j.io.BadRequestException;

/** Base of the samplers on integer DDPM timesteps (ddim, plms, ddpm): scheduler "discrete" only. */
abstract class TimestepSampler extends LoopSampler<Timesteps> {
    TimestepSampler(SamplerKind kind) {
        super(kind, Timesteps.class);
    }

    @Override
    public Timesteps plan(NoiseSchedule schedule, Scheduler scheduler, int steps) {
        if (scheduler != Scheduler.DISCRETE) {
            throw new BadRequestException("sampler " + name() + " supports only scheduler "
                    + Scheduler.DISCRETE.cliName() + ", got " + scheduler.cliName());
        }
        return Timesteps.uniform(schedule.size(), steps);
    }

    /**
     * alphas_cumprod of the timestep after step i, and for the last timestep alphas_cumprod[0] rather than 1:
     * CompVis DDIM ends at the noise level of timestep 0.
     */
    static float alphaPrev(NoiseSchedule schedule, Timesteps plan, int i) {
        return schedule.alphaCumprod(i + 1 < plan.steps() ? plan.get(i + 1) : 0);
    }
}
