package dev.ldm4j.sampling;

import java.util.List;
import java.util.Locale;

/** The samplers by their stable-diffusion.cpp CLI names. */
public final class Samplers {
    private static final List<String> NAMES = List.of("ddim", "plms", "ddpm", "euler", "euler_a", "heun", "dpm++2m");

    private Samplers() {}

    public static List<String> names() {
        return NAMES;
    }

    /**
     * ddim (CompVis DDIM, eta 0), plms (CompVis PLMS), ddpm (ancestral DDPM on the DDIM timesteps), euler,
     * euler_a, heun, dpm++2m (k-diffusion).
     */
    public static Sampler byName(String name) {
        String key = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        return switch (key) {
            case "ddim" -> new DdimSampler(0.0);
            case "plms" -> new PlmsSampler();
            case "ddpm" -> new DdpmSampler();
            case "euler" -> new EulerSampler();
            case "euler_a" -> new EulerAncestralSampler(1.0);
            case "heun" -> new HeunSampler();
            case "dpm++2m" -> new DpmPp2mSampler();
            default -> throw new IllegalArgumentException(
                    "unknown sampler '" + name + "'; valid: " + String.join(", ", NAMES));
        };
    }

    /** CompVis DDIM with a chosen eta (0 deterministic, 1 ancestral). */
    public static Sampler ddim(double eta) {
        return new DdimSampler(eta);
    }
}
