package dev.ldm4j.sampling;

import dev.ldm4j.io.BadRequestException;
import java.util.Locale;

/** What the diffusion model outputs: the noise (eps, SD 1.x) or the velocity v (SD 2.x 768-v models). */
public enum Prediction {
    EPS,
    V;

    /** From a config's parameterization: "eps" / "epsilon", "v" / "v_prediction". */
    public static Prediction byName(String name) {
        String key = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        return switch (key) {
            case "eps", "epsilon" -> EPS;
            case "v", "v_prediction" -> V;
            default -> throw new BadRequestException("unknown parameterization '" + name + "'; valid: eps, v");
        };
    }
}
