package dev.ldm4j;

import java.awt.image.BufferedImage;
import java.util.Objects;

/**
 * What to generate: a prompt and, optionally, everything else, set fluently. Immutable: every setter returns a
 * changed copy, so one request can be the template of many. Unset values take stable-diffusion.cpp's defaults
 * (20 steps of euler_a, cfg scale 7, seed 42) and the model's image size.
 *
 * <pre>{@code
 * ImageRequest r = ImageRequest.of("a red apple, studio light").negativePrompt("blurry").steps(30).seed(7);
 * ImageRequest repaint = r.initImage(photo).mask(mask);     // inpainting: white in the mask is repainted
 * }</pre>
 */
public final class ImageRequest implements Cloneable {
    private String prompt;
    private String negativePrompt = "";
    private Integer width;
    private Integer height;
    private int steps = 20;
    private double cfgScale = 7.0;
    private String sampler = "euler_a";
    private String scheduler = "automatic";
    private double eta;
    private long seed = 42;
    private int batchSize = 1;
    private int clipSkip;
    private BufferedImage initImage;
    private BufferedImage mask;
    private Double strength;
    private Integer noiseLevel;
    private int[] outpaint;
    private Integer maskBlur;
    private boolean invertMask;
    private String maskedContent;
    private Integer onlyMaskedPadding;
    private Double hiresScale;
    private int hiresSteps;
    private double hiresDenoise;
    private String hiresUpscaler;

    private ImageRequest(String prompt) {
        this.prompt = Objects.requireNonNull(prompt, "prompt");
    }

    public static ImageRequest of(String prompt) {
        return new ImageRequest(prompt);
    }

    private ImageRequest copy() {
        try {
            return (ImageRequest) clone();
        } catch (CloneNotSupportedException e) {
            throw new AssertionError(e);
        }
    }

    public ImageRequest prompt(String p) {
        ImageRequest c = copy();
        c.prompt = Objects.requireNonNull(p, "prompt");
        return c;
    }

    public ImageRequest negativePrompt(String p) {
        ImageRequest c = copy();
        c.negativePrompt = p == null ? "" : p;
        return c;
    }

    /** The output size, multiples of 8; default: the init image's size, else the model's. */
    public ImageRequest size(int w, int h) {
        ImageRequest c = copy();
        c.width = w;
        c.height = h;
        return c;
    }

    public ImageRequest steps(int n) {
        ImageRequest c = copy();
        c.steps = n;
        return c;
    }

    /** Classifier-free guidance scale; 1 switches guidance off (and the negative prompt with it). */
    public ImageRequest cfgScale(double s) {
        ImageRequest c = copy();
        c.cfgScale = s;
        return c;
    }

    /** ddim, plms, ddpm, euler, euler_a, heun, dpm++2m. */
    public ImageRequest sampler(String name) {
        ImageRequest c = copy();
        c.sampler = Objects.requireNonNull(name, "sampler");
        return c;
    }

    /** discrete, karras, ... or "automatic" (the default: the sampler's own). */
    public ImageRequest scheduler(String name) {
        ImageRequest c = copy();
        c.scheduler = Objects.requireNonNull(name, "scheduler");
        return c;
    }

    /** DDIM's eta (ddim only). */
    public ImageRequest eta(double e) {
        ImageRequest c = copy();
        c.eta = e;
        return c;
    }

    /** The seed of x_T and every later draw; -1 draws a random one ({@link GeneratedImage#seed()} tells it). */
    public ImageRequest seed(long s) {
        ImageRequest c = copy();
        c.seed = s;
        return c;
    }

    /** Images per call, from one x_T of that batch size. */
    public ImageRequest batchSize(int n) {
        ImageRequest c = copy();
        c.batchSize = n;
        return c;
    }

    /** AUTOMATIC1111's CLIP skip (1 = last layer, 2 = penultimate); 0 = the model's own layer. */
    public ImageRequest clipSkip(int k) {
        ImageRequest c = copy();
        c.clipSkip = k;
        return c;
    }

    /** Start from this picture (image-to-image); its size is the output size. Transparency is put over white. */
    public ImageRequest initImage(BufferedImage image) {
        ImageRequest c = copy();
        c.initImage = image;
        return c;
    }

    /**
     * Repaint where this mask (the init image's size) is light (luminance >= 128), keep the rest. Needs an
     * init image; without a strength, the whole schedule runs (strength 1).
     */
    public ImageRequest mask(BufferedImage m) {
        ImageRequest c = copy();
        c.mask = m;
        return c;
    }

    /** How much of the init image is replaced by noise, 0..1 (default 0.75; 1 with a mask). */
    public ImageRequest strength(double s) {
        ImageRequest c = copy();
        c.strength = s;
        return c;
    }

    /**
     * With the x4 upscaler: how much the low-resolution init image is noised before the model sees it, 0..349
     * (default 20). The output is 4x the init image.
     */
    public ImageRequest noiseLevel(int n) {
        ImageRequest c = copy();
        c.noiseLevel = n;
        return c;
    }

    /**
     * Outpainting: grow the init image by these borders (pixels, multiples of 8) and paint them in (AUTOMATIC1111's
     * inpainting with mask blur 4 and masked content "fill" unless set). The output has the grown size.
     */
    public ImageRequest outpaint(int left, int top, int right, int bottom) {
        ImageRequest c = copy();
        c.outpaint = new int[] {left, top, right, bottom};
        return c;
    }

    /**
     * AUTOMATIC1111's inpainting: blur the mask by this many pixels and paste the kept area back through it.
     * Setting any of maskBlur, invertMask, maskedContent or onlyMasked switches to AUTOMATIC1111's inpainting
     * (mask blur 4 unless set); without them the mask is used as given.
     */
    public ImageRequest maskBlur(int pixels) {
        ImageRequest c = copy();
        c.maskBlur = pixels;
        return c;
    }

    /** Repaint the mask's dark area and keep the light one. */
    public ImageRequest invertMask() {
        ImageRequest c = copy();
        c.invertMask = true;
        return c;
    }

    /** What the area to repaint starts from: original, fill, latent-noise or latent-nothing. */
    public ImageRequest maskedContent(String mode) {
        ImageRequest c = copy();
        c.maskedContent = mode;
        return c;
    }

    /** "Only masked": work on the region around the mask (padded by this many pixels) at full size, paste it back. */
    public ImageRequest onlyMasked(int padding) {
        ImageRequest c = copy();
        c.onlyMaskedPadding = padding;
        return c;
    }

    /**
     * AUTOMATIC1111's hires fix of text-to-image: generate at the request's size, upscale by {@code scale} with
     * {@code upscaler} ("Latent", "Latent (bicubic)", "Latent (nearest)", "Lanczos", "Bicubic", "Nearest", "None"),
     * then image-to-image at that size for {@code steps} steps (0 = the request's) at strength {@code denoise}.
     */
    public ImageRequest hiresFix(double scale, int steps, double denoise, String upscaler) {
        ImageRequest c = copy();
        c.hiresScale = scale;
        c.hiresSteps = steps;
        c.hiresDenoise = denoise;
        c.hiresUpscaler = upscaler;
        return c;
    }

    Integer noiseLevel() {
        return noiseLevel;
    }

    int[] outpaintBorders() {
        return outpaint;
    }

    boolean a1111Inpainting() {
        return outpaint != null || maskBlur != null || invertMask || maskedContent != null || onlyMaskedPadding != null;
    }

    Integer maskBlur() {
        return maskBlur;
    }

    boolean invertsMask() {
        return invertMask;
    }

    String maskedContent() {
        return maskedContent;
    }

    Integer onlyMaskedPadding() {
        return onlyMaskedPadding;
    }

    Double hiresScale() {
        return hiresScale;
    }

    int hiresSteps() {
        return hiresSteps;
    }

    double hiresDenoise() {
        return hiresDenoise;
    }

    String hiresUpscaler() {
        return hiresUpscaler;
    }

    String prompt() {
        return prompt;
    }

    String negativePrompt() {
        return negativePrompt;
    }

    Integer width() {
        return width;
    }

    Integer height() {
        return height;
    }

    int steps() {
        return steps;
    }

    double cfgScale() {
        return cfgScale;
    }

    String sampler() {
        return sampler;
    }

    String scheduler() {
        return scheduler;
    }

    double eta() {
        return eta;
    }

    long seed() {
        return seed;
    }

    int batchSize() {
        return batchSize;
    }

    int clipSkip() {
        return clipSkip;
    }

    BufferedImage initImage() {
        return initImage;
    }

    BufferedImage mask() {
        return mask;
    }

    Double strength() {
        return strength;
    }
}
