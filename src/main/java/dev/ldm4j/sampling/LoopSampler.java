package dev.ldm4j.sampling;

import dev.ldm4j.nn.Tensors;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The step loop every sampler shares: one PointerScope per step, the listener's hooks, and the handles of
 * what survives a step (the latent and the run's history).
 */
abstract class LoopSampler<P extends Plan> implements Sampler {
    private static final Logger LOG = LoggerFactory.getLogger(LoopSampler.class);

    private final String name;
    private final Class<P> planType;

    LoopSampler(SamplerKind kind, Class<P> planType) {
        this.name = kind.cliName();
        this.planType = planType;
    }

    /** One run's state: the history between steps is the run's own, held across step scopes. */
    interface Run extends AutoCloseable {
        /** Step i from latent x: the new latent and the step's clean-latent prediction. */
        StepResult step(int i, Tensor x);

        @Override
        default void close() {}
    }

    record StepResult(Tensor latent, Tensor denoised) {}

    abstract Run start(Denoiser denoiser, P plan, SeededNoise noise);

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final Tensor sample(Denoiser denoiser, Plan plan, Tensor x, SeededNoise noise, StepListener listener) {
        if (!planType.isInstance(plan)) {
            throw new IllegalArgumentException("sampler " + name + " walks " + planType.getSimpleName()
                    + ", got " + plan + " (make the plan with this sampler's plan())");
        }
        P p = planType.cast(plan);
        int n = p.steps();
        LOG.debug("{}: {} steps on {}", name, n, p);
        Tensor current = Handles.hold(x);
        try (Run run = start(denoiser, p, noise)) {
            for (int i = 0; i < n; i++) {
                Tensor next;
                try (PointerScope scope = new PointerScope()) {
                    StepResult r = run.step(i, listener.beforeStep(i, current));
                    listener.afterStep(new Step(i, n, r.latent(), r.denoised()));
                    next = Handles.hold(r.latent());
                }
                Handles.drop(current);
                current = next;
            }
        }
        return Handles.release(current);
    }

    /** A unit-normal draw of x's shape from the run's generator, on x's device. */
    static Tensor randnLike(SeededNoise noise, Tensor x) {
        Tensor z = noise.randn(x.sizes().vec().get());
        ScalarType type = Tensors.scalarType(x);
        return x.is_cpu() && type == ScalarType.Float ? z : z.to(x.device(), type);
    }

    @Override
    public String toString() {
        return name;
    }
}
