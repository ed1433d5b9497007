package dev.ldm4j.sampling;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.function.DoubleFunction;
import java.util.function.Supplier;

/**
 * Every sampler ldm4j has, the one place its names live: the stable-diffusion.cpp CLI name (what requests,
 * {@code --sampling-method} and {@link Sampler#name()} use), the AUTOMATIC1111 name (what the PNG
 * {@code parameters} text says), and how to make one. The order is the order of {@link Samplers#names()}.
 */
public enum SamplerKind {
    /** CompVis DDIM, eta 0. */
    DDIM("ddim", "DDIM", () -> new DdimSampler(0.0), Scheduler.DISCRETE, DdimSampler::new),
    /** CompVis PLMS. */
    PLMS("plms", "PLMS", PlmsSampler::new),
    /** Ancestral DDPM on the DDIM timesteps. */
    DDPM("ddpm", "DDPM", DdpmSampler::new),
    /** k-diffusion sample_euler. */
    EULER("euler", "Euler", EulerSampler::new),
    /** k-diffusion sample_euler_ancestral, eta 1. */
    EULER_A("euler_a", "Euler a", () -> new EulerAncestralSampler(1.0)),
    /** k-diffusion sample_heun. */
    HEUN("heun", "Heun", HeunSampler::new),
    /** k-diffusion sample_dpmpp_2m. */
    DPMPP_2M("dpm++2m", "DPM++ 2M", DpmPp2mSampler::new),
    /** k-diffusion sample_lms, order 4. */
    LMS("lms", "LMS", LmsSampler::new),
    /** k-diffusion sample_dpm_2. */
    DPM2("dpm2", "DPM2", Dpm2Sampler::new),
    /** k-diffusion sample_dpm_2_ancestral, eta 1. */
    DPM2_A("dpm2_a", "DPM2 a", Dpm2AncestralSampler::new),
    /** k-diffusion sample_dpmpp_2s_ancestral, eta 1. */
    DPMPP_2S_A("dpm++2s_a", "DPM++ 2S a", DpmPp2sAncestralSampler::new),
    /** k-diffusion sample_dpmpp_2m_sde, eta 1, midpoint, Gaussian noise per step. */
    DPMPP_2M_SDE("dpm++2m_sde", "DPM++ 2M SDE", DpmPp2mSdeSampler::new),
    /** k-diffusion sample_dpmpp_3m_sde, eta 1, Gaussian noise per step. */
    DPMPP_3M_SDE("dpm++3m_sde", "DPM++ 3M SDE", DpmPp3mSdeSampler::new),
    /** ComfyUI sample_ipndm: fourth-order Adams-Bashforth in sigma, fixed-step weights. */
    IPNDM("ipndm", "iPNDM", () -> new IpndmSampler(false)),
    /** ComfyUI sample_ipndm_v: the same with variable-step weights. */
    IPNDM_V("ipndm_v", "iPNDM v", () -> new IpndmSampler(true)),
    /** ComfyUI sample_lcm; the lcm scheduler unless another is named. */
    LCM("lcm", "LCM", LcmSampler::new, Scheduler.LCM, null),
    /**
     * DDIM on trailing timesteps with eta (default 0; --eta), stable-diffusion.cpp's ddim_trailing: Euler
     * ancestral with that eta; the simple scheduler unless another is named.
     */
    DDIM_TRAILING("ddim_trailing", "DDIM Trailing", () -> new EulerAncestralSampler(SamplerKind.ddimTrailing(), 0),
            Scheduler.SIMPLE, eta -> new EulerAncestralSampler(SamplerKind.ddimTrailing(), eta)),
    /**
     * diffusers' TCDScheduler (Trajectory Consistency Distillation) with eta (default 0, as
     * stable-diffusion.cpp; --eta); the lcm scheduler unless another is named.
     */
    TCD("tcd", "TCD", () -> new TcdSampler(0), Scheduler.LCM, TcdSampler::new),
    /** Euler with CFG++ (ComfyUI sample_euler_cfg_pp): guided target, unconditional direction. */
    EULER_CFG_PP("euler_cfg_pp", "Euler CFG++", () -> new EulerCfgPpSampler(SamplerKind.kind("euler_cfg_pp"), 0)),
    /** Euler ancestral with CFG++ (ComfyUI sample_euler_ancestral_cfg_pp), eta 1. */
    EULER_A_CFG_PP("euler_a_cfg_pp", "Euler a CFG++",
            () -> new EulerCfgPpSampler(SamplerKind.kind("euler_a_cfg_pp"), 1));

    private final String cliName;
    private final String a1111Name;
    private final Supplier<Sampler> factory;
    private final Scheduler defaultScheduler;
    private final DoubleFunction<Sampler> withEta;

    SamplerKind(String cliName, String a1111Name, Supplier<Sampler> factory) {
        this(cliName, a1111Name, factory, Scheduler.DISCRETE, null);
    }

    SamplerKind(String cliName, String a1111Name, Supplier<Sampler> factory, Scheduler defaultScheduler,
                DoubleFunction<Sampler> withEta) {
        this.cliName = cliName;
        this.a1111Name = a1111Name;
        this.factory = factory;
        this.defaultScheduler = defaultScheduler;
        this.withEta = withEta;
    }

    // an enum constant cannot name itself in its own constructor arguments
    private static SamplerKind ddimTrailing() {
        return DDIM_TRAILING;
    }

    private static SamplerKind kind(String cliName) {
        return find(cliName).orElseThrow();
    }

    /** The scheduler a request without one (or with AUTOMATIC1111's "Automatic") gets. */
    public Scheduler defaultScheduler() {
        return defaultScheduler;
    }

    /** Whether --eta applies: ddim, ddim_trailing and tcd. */
    public boolean takesEta() {
        return withEta != null;
    }

    /** A new sampler of this kind with the given eta. */
    public Sampler create(double eta) {
        if (withEta == null) {
            if (eta != 0) {
                throw new IllegalArgumentException("eta does not apply to the " + cliName + " sampler");
            }
            return create();
        }
        return withEta.apply(eta);
    }

    /** The stable-diffusion.cpp CLI name: ddim, euler_a, dpm++2m, ... */
    public String cliName() {
        return cliName;
    }

    /** The name AUTOMATIC1111 writes in its {@code parameters} text: DDIM, Euler a, DPM++ 2M, ... */
    public String a1111Name() {
        return a1111Name;
    }

    /** A new sampler of this kind with its default settings. */
    public Sampler create() {
        return factory.get();
    }

    /** The kind a CLI or AUTOMATIC1111 name names (case and surrounding blanks ignored), if any. */
    public static Optional<SamplerKind> find(String name) {
        String key = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        return Arrays.stream(values())
                .filter(k -> k.cliName.equals(key) || k.a1111Name.toLowerCase(Locale.ROOT).equals(key)).findFirst();
    }
}
