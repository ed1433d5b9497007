package dev.ldm4j.text;

import dev.ldm4j.nn.Ops;
import java.util.Locale;
import org.bytedeco.pytorch.Tensor;

/** The MLP nonlinearity of a text transformer, by the name configs use for it. */
public enum Activation {
    /** OpenAI CLIP's x * sigmoid(1.702 x); SD 1.x and SDXL's CLIP-L. */
    QUICK_GELU("quick_gelu"),
    /** Exact (erf) GELU; OpenCLIP ViT-H / ViT-bigG. */
    GELU("gelu");

    private final String configName;

    Activation(String configName) {
        this.configName = configName;
    }

    public String configName() {
        return configName;
    }

    public Tensor apply(Tensor x) {
        return this == QUICK_GELU ? Ops.quickGelu(x) : Ops.gelu(x);
    }

    /** Parses "quick_gelu" or "gelu" (Hugging Face {@code hidden_act}, open_clip {@code act}). */
    public static Activation parse(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT);
        for (Activation a : values()) {
            if (a.configName.equals(n)) {
                return a;
            }
        }
        throw new IllegalArgumentException("unsupported text encoder activation '" + name
                + "' (supported: quick_gelu, gelu)");
    }
}
