package dev.ldm4j.sampling;

import dev.ldm4j.io.BadRequestException;
import java.util.Arrays;
import java.util.List;

/** The samplers by their stable-diffusion.cpp CLI names, as {@link SamplerKind} lists them. */
public final class Samplers {
    private static final List<String> NAMES = Arrays.stream(SamplerKind.values()).map(SamplerKind::cliName).toList();

    private Samplers() {}

    /** The stable-diffusion.cpp names, in {@link SamplerKind}'s order. */
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

    /** A sampler with the scheduler a request ends up with. */
    public record Choice(SamplerKind kind, Scheduler scheduler) {}

    /**
     * The sampler and scheduler of a request, whichever convention names them (no scheduler, or "Automatic",
     * is the sampler's own: {@link SamplerKind#defaultScheduler()}): stable-diffusion.cpp's
     * ({@code dpm++2m} + {@code karras}), AUTOMATIC1111's ({@code "DPM++ 2M"} + {@code "Karras"}), or
     * AUTOMATIC1111's older combined names ({@code "DPM++ 2M Karras"}, whose scheduler wins over a
     * {@code discrete}/{@code Automatic} one and must not contradict another).
     */
    public static Choice choose(String sampler, String scheduler) {
        String name = sampler == null ? "" : sampler.trim();
        boolean automatic = scheduler == null || scheduler.isBlank() || scheduler.trim().equalsIgnoreCase("automatic");
        Scheduler s = automatic ? Scheduler.DISCRETE : Scheduler.byName(scheduler);
        for (Scheduler implied : Scheduler.values()) {
            String suffix = " " + implied.a1111Name();
            if (implied != Scheduler.DISCRETE && name.toLowerCase(java.util.Locale.ROOT)
                    .endsWith(suffix.toLowerCase(java.util.Locale.ROOT))) {
                if (s != Scheduler.DISCRETE && s != implied) {
                    throw new BadRequestException("sampler '" + sampler + "' names the " + implied.cliName()
                            + " scheduler but the request asks for " + s.cliName());
                }
                return new Choice(kind(name.substring(0, name.length() - suffix.length())), implied);
            }
        }
        SamplerKind kind = kind(name);
        return new Choice(kind, automatic ? kind.defaultScheduler() : s);
    }

    /** CompVis DDIM with a chosen eta (0 deterministic, 1 ancestral). */
    public static Sampler ddim(double eta) {
        return new DdimSampler(eta);
    }
}
