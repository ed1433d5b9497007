package dev.ldm4j.sampling;

import dev.ldm4j.io.BadRequestException;
import java.util.Arrays;
import java.util.List;

/** The samplers by their stable-diffusion.cpp CLI names, as {@link SamplerKind} lists them. */
public final class Samplers {
    private static final List<String> NAMES = Arrays.stream(SamplerKind.values()).map(SamplerKind::cliName).toList();

    private Samplers() {}

    /** ddim, plms, ddpm, euler, euler_a, heun, dpm++2m. */
    public static List<String> names() {
        return NAMES;
    }

    /**
     * ddim (CompVis DDIM, eta 0), plms (CompVis PLMS), ddpm (ancestral DDPM on the DDIM timesteps), euler,
     * euler_a, heun, dpm++2m (k-diffusion).
     *
     * @throws BadRequestException for an unknown name (the message lists the valid ones)
     */
    public static Sampler byName(String name) {
        return kind(name).create();
    }

    /** The kind a name names, as {@link #byName} reads it. */
    public static SamplerKind kind(String name) {
        return SamplerKind.find(name).orElseThrow(() -> new BadRequestException(
                "unknown sampler '" + name + "'; valid: " + String.join(", ", NAMES)));
    }

    /** CompVis DDIM with a chosen eta (0 deterministic, 1 ancestral). */
    public static Sampler ddim(double eta) {
        return new DdimSampler(eta);
    }
}
