package dev.ldm4j.sampling;

import org.bytedeco.pytorch.Tensor;

/**
 * A classifier-free guided model that also tells its unconditional branch, which the CFG++ samplers step
 * along (Chung et al. 2024: the guided prediction as the target, the unconditional one as the direction).
 * Other samplers see only {@link #apply}, the guided output.
 */
public interface GuidedModelFn extends ModelFn {
    /** The raw outputs (eps or v) of one guided evaluation. */
    record Branches(Tensor guided, Tensor unconditional) {}

    Branches both(Tensor x, Tensor t);

    @Override
    default Tensor apply(Tensor x, Tensor t) {
        return both(x, t).guided();
    }
}
