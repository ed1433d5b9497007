package dev.ldm4j.model;

import static dev.ldm4j.nn.Ops.s;

import dev.ldm4j.io.BadRequestException;
import dev.ldm4j.io.ModelFileException;
import dev.ldm4j.io.SafetensorsFile;
import dev.ldm4j.nn.ParameterSource;
import dev.ldm4j.nn.Tensors;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * LoRAs merged into the weights as they load: W' = W + ((m (U @ D)) (alpha / r)), in float32, U and D
 * flattened to [out, r] and [r, in * kh * kw] (kohya's LoRAInfModule.merge_to; AUTOMATIC1111 merges the same),
 * written into W itself so the merge costs no second copy. m is the tag's text-encoder or UNet multiplier.
 * Several LoRAs add up in order.
 *
 * <p>A checkpoint key maps to one kohya module name (its prefix swapped, dots to underscores), so each
 * weight looks its LoRA modules up as it is read. After loading, {@link #unmatched} names the modules that met
 * no weight; a LoRA of which none did is an error ({@link #check}), never a silent no-op.
 *
 * <p>Each LoRA file is opened once per load, at its first merged module, and closed by {@link #release}: a
 * large LoRA's header (thousands of tensors) takes milliseconds to parse, and it has as many modules.
 */
public final class LoraPatch implements ParameterPatch {
    /** A LoRA file with the multipliers of its tag. */
    public record Applied(LoraFile file, double textMultiplier, double unetMultiplier) {}

    private final List<Applied> loras;
    private final Set<String> matched = Collections.synchronizedSet(new LinkedHashSet<>());
    /** The LoRA files opened during the current load, by path. */
    private final Map<java.nio.file.Path, SafetensorsFile> open = new java.util.HashMap<>();

    public LoraPatch(List<Applied> loras) {
        this.loras = List.copyOf(loras);
    }

    public List<Applied> loras() {
        return loras;
    }

    @Override
    public ParameterSource apply(ParameterSource source, ModelConfig config) {
        return new ParameterSource() {
            @Override
            public boolean has(String key) {
                return source.has(key);
            }

            @Override
            public Tensor get(String key, long[] shape) {
                Tensor w = source.get(key, shape);
                List<Target> targets = new ArrayList<>(targets(key, config));
                targets.addAll(openClipTargets(key, shape[shape.length - 1], config));
                for (Target target : targets) {
                    for (Applied a : loras) {
                        LoraFile.Module m = a.file().modules().get(target.module());
                        if (m != null && (!target.bias() || m.tensor("diffBias") != null)) {
                            Tensor into = target.rows() < 0 ? w : w.narrow(0, target.rowStart(), target.rows());
                            merge(into, file(a), m, target.bias(),
                                    target.text() ? a.textMultiplier() : a.unetMultiplier());
                            matched.add(a.file().name() + "/" + target.module());
                        }
                    }
                }
                return w;
            }

            @Override
            public Map<String, Tensor> taken() {
                return source.taken();
            }
        };
    }

    /**
     * A kohya module a checkpoint tensor belongs to, whether it is in the text encoder, whether a bias, and which
     * rows of the tensor it covers (OpenCLIP's fused in_proj holds q, k and v; rows -1: all).
     */
    record Target(String module, boolean text, boolean bias, long rowStart, long rows) {
        Target(String module, boolean text, boolean bias) {
            this(module, text, bias, 0, -1);
        }
    }

    /** OpenCLIP towers: checkpoint prefix -> kohya prefix (kohya names them in transformers' CLIP layout). */
    private static Map<String, String> openClipPrefixes(Architecture arch) {
        if (arch == Architecture.SD2) {
            return Map.of(Architecture.COND_STAGE + "model.", "lora_te_");
        }
        if (arch == Architecture.SDXL) {
            return Map.of("conditioner.embedders.1.model.", "lora_te2_");
        }
        return Map.of();
    }

    private static final java.util.regex.Pattern RESBLOCK =
            java.util.regex.Pattern.compile("transformer\\.resblocks\\.(\\d+)\\.(attn\\.in_proj_weight|attn\\.out_proj\\.weight"
                    + "|mlp\\.c_fc\\.weight|mlp\\.c_proj\\.weight)");

    /** The kohya modules of an OpenCLIP tower weight, or none. */
    private static List<Target> openClipTargets(String key, long width, ModelConfig config) {
        for (Map.Entry<String, String> p : openClipPrefixes(config.architecture()).entrySet()) {
            if (!key.startsWith(p.getKey())) {
                continue;
            }
            java.util.regex.Matcher m = RESBLOCK.matcher(key.substring(p.getKey().length()));
            if (!m.matches()) {
                return List.of();
            }
            String layer = p.getValue() + "text_model_encoder_layers_" + m.group(1) + "_";
            return switch (m.group(2)) {
                case "attn.in_proj_weight" -> List.of(new Target(layer + "self_attn_q_proj", true, false, 0, width),
                        new Target(layer + "self_attn_k_proj", true, false, width, width),
                        new Target(layer + "self_attn_v_proj", true, false, 2 * width, width));
                case "attn.out_proj.weight" -> List.of(new Target(layer + "self_attn_out_proj", true, false));
                case "mlp.c_fc.weight" -> List.of(new Target(layer + "mlp_fc1", true, false));
                default -> List.of(new Target(layer + "mlp_fc2", true, false));
            };
        }
        return List.of();
    }

    /**
     * The kohya modules that may name a checkpoint weight: its path with the prefix swapped and dots made
     * underscores, and for the UNet also its path in diffusers' layout (kohya names SD 1.x/2.x LoRAs after
     * diffusers' UNet, SDXL LoRAs after the CompVis one).
     */
    static java.util.List<Target> targets(String key, ModelConfig config) {
        boolean bias = key.endsWith(".bias");
        if (!key.endsWith(".weight") && !bias) {
            return List.of();
        }
        String path = key.substring(0, key.lastIndexOf('.'));
        for (Map.Entry<String, String> p : prefixes(config.architecture()).entrySet()) {
            if (path.startsWith(p.getKey())) {
                String inner = path.substring(p.getKey().length());
                boolean text = !p.getValue().equals("lora_unet_");
                List<Target> out = new ArrayList<>();
                out.add(new Target(p.getValue() + inner.replace('.', '_'), text, bias));
                String diffusers = text ? null : DiffusersUNetNames.of(inner, config.unet());
                if (diffusers != null && !diffusers.equals(inner)) {
                    out.add(new Target(p.getValue() + diffusers.replace('.', '_'), false, bias));
                }
                return out;
            }
        }
        return List.of();
    }

    /** Checkpoint prefix -> kohya prefix, for the towers whose layout kohya's names follow. */
    private static Map<String, String> prefixes(Architecture arch) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(Architecture.UNET, "lora_unet_");
        if (arch == Architecture.SD1) {
            m.put(Architecture.COND_STAGE + "transformer.", "lora_te_");
        } else if (arch == Architecture.SDXL) {
            m.put("conditioner.embedders.0.transformer.", "lora_te1_");
        }
        return m;
    }

    /** {@code a}'s file, opened at its first use in this load. */
    private SafetensorsFile file(Applied a) {
        synchronized (open) {
            return open.computeIfAbsent(a.file().path(), SafetensorsFile::open);
        }
    }

    @Override
    public void release() {
        synchronized (open) {
            open.values().forEach(SafetensorsFile::close);
            open.clear();
        }
    }

    /** How many LoRA files are open now (for tests: none once a load is over). */
    int openFiles() {
        synchronized (open) {
            return open.size();
        }
    }

    private static void merge(Tensor w, SafetensorsFile f, LoraFile.Module m, boolean bias, double multiplier) {
        try (PointerScope scope = new PointerScope()) {
            Delta d = bias ? new Delta(Tensors.readFloat(f, m.tensor("diffBias")), 1) : delta(f, m, w);
            if (d.weight().numel() != w.numel()) {
                throw new ModelFileException(f.path() + ": LoRA module " + m.tensors().values().iterator().next()
                        + " makes a difference of shape " + Tensors.shapeString(d.weight()) + " that does not fit the "
                        + "weight " + Tensors.shapeString(w));
            }
            Tensor delta = d.weight().reshape(w.sizes().vec().get()).to(w.device(), ScalarType.Float);
            w.copy_(w.to(w.device(), ScalarType.Float).add(delta.mul(s(multiplier)).mul(s(d.scale()))));
        }
    }

    /** A module's weight difference before the multiplier, and the scale it comes with (alpha / rank). */
    record Delta(Tensor weight, double scale) {}

    /**
     * The difference each kind makes, as kohya (LoRA) and ComfyUI (LoCon's mid, LoHa, LoKr, diff) build it; a
     * missing alpha means a scale of 1.
     */
    static Delta delta(SafetensorsFile f, LoraFile.Module m, Tensor w) {
        java.util.function.Function<String, Tensor> t = role -> m.tensor(role) == null ? null
                : Tensors.readFloat(f, m.tensor(role));
        Double alpha = m.alpha() == null ? null : (double) Tensors.toFloats(Tensors.readFloat(f, m.alpha()))[0];
        switch (m.kind()) {
            case LORA -> {
                Tensor down = t.apply("down");
                Tensor up = t.apply("up");
                Tensor mid = t.apply("mid");
                check(f, m, down.dim() >= 2 && up.dim() >= 2 && down.size(0) >= 1 && up.size(1) == down.size(0)
                        && (mid == null || mid.dim() == 4 && mid.size(0) == down.size(0) && mid.size(1) == down.size(0)),
                        down, up);
                long rank = down.size(0);
                if (mid != null) {
                    // LoCon's CP middle: D' = (D^T M^T)^T, a [r, in, kh, kw] down projection
                    down = down.transpose(0, 1).flatten(1, -1).matmul(mid.transpose(0, 1).flatten(1, -1))
                            .reshape(down.size(1), rank, mid.size(2), mid.size(3)).transpose(0, 1);
                }
                Tensor product = up.reshape(up.size(0), rank).matmul(down.reshape(rank, -1));
                return new Delta(product, alpha == null ? 1 : alpha / rank);
            }
            case LOHA -> {
                Tensor w1b = t.apply("w1b");
                Tensor m1 = t.apply("t1") != null ? cp(t.apply("t1"), w1b, t.apply("w1a"))
                        : t.apply("w1a").matmul(w1b);
                Tensor m2 = t.apply("t2") != null ? cp(t.apply("t2"), t.apply("w2b"), t.apply("w2a"))
                        : t.apply("w2a").matmul(t.apply("w2b"));
                check(f, m, m1.numel() == m2.numel(), m1, m2);
                return new Delta(m1.mul(m2.reshape(m1.sizes().vec().get())), alpha == null ? 1 : alpha / w1b.size(0));
            }
            case LOKR -> {
                Long dim = null;
                Tensor w1 = t.apply("w1");
                if (w1 == null) {
                    dim = t.apply("w1b").size(0);
                    w1 = t.apply("w1a").matmul(t.apply("w1b"));
                }
                Tensor w2 = t.apply("w2");
                if (w2 == null) {
                    dim = t.apply("w2b").size(0);
                    w2 = t.apply("t2") != null ? cp(t.apply("t2"), t.apply("w2b"), t.apply("w2a"))
                            : t.apply("w2a").matmul(t.apply("w2b"));
                }
                if (w2.dim() == 4) {
                    w1 = w1.reshape(w1.size(0), w1.size(1), 1, 1);
                }
                check(f, m, w1.dim() == w2.dim(), w1, w2);
                return new Delta(torch.kron(w1.contiguous(), w2.contiguous()), alpha != null && dim != null ? alpha / dim : 1);
            }
            default -> {
                Tensor diff = t.apply("diff");
                check(f, m, diff != null, w, w);
                return new Delta(diff, 1);
            }
        }
    }

    /** CP reconstruction, einsum("i j k l, j r, i p -> p r k l", core, b, a): [p, r, kh, kw]. */
    private static Tensor cp(Tensor core, Tensor b, Tensor a) {
        long i = core.size(0);
        long j = core.size(1);
        long kh = core.size(2);
        long kw = core.size(3);
        Tensor kl = core.permute(2, 3, 0, 1).reshape(kh * kw, i, j).matmul(b);   // [kl, i, r]
        Tensor pr = kl.transpose(1, 2).matmul(a);                                  // [kl, r, p]
        return pr.permute(2, 1, 0).reshape(a.size(1), b.size(1), kh, kw);
    }

    private static void check(SafetensorsFile f, LoraFile.Module m, boolean ok, Tensor a, Tensor b) {
        if (!ok) {
            throw new ModelFileException(f.path() + ": LoRA module " + m.tensors().values().iterator().next()
                    + " has tensors of shapes " + Tensors.shapeString(a) + " / " + Tensors.shapeString(b)
                    + " that do not fit together");
        }
    }

    /** The modules of each LoRA that met no weight of the model, "NAME/module". */
    public List<String> unmatched() {
        List<String> out = new ArrayList<>();
        for (Applied a : loras) {
            for (String module : a.file().modules().keySet()) {
                if (!matched.contains(a.file().name() + "/" + module)) {
                    out.add(a.file().name() + "/" + module);
                }
            }
        }
        return out;
    }

    /** After loading: a LoRA none of whose modules met a weight is refused (wrong family, wrong format). */
    public void check() {
        for (Applied a : loras) {
            boolean any = a.file().modules().keySet().stream().anyMatch(k -> matched.contains(a.file().name() + "/" + k));
            if (!any) {
                throw new BadRequestException("LoRA " + a.file().name() + " (" + a.file().path() + ") matched no weight "
                        + "of the model: its " + a.file().modules().size() + " modules (e.g. "
                        + a.file().modules().keySet().iterator().next() + ") name layers this model does not have");
            }
        }
    }
}
