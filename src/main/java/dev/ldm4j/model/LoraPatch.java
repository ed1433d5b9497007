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
 */
public final class LoraPatch implements ParameterPatch {
    /** A LoRA file with the multipliers of its tag. */
    public record Applied(LoraFile file, double textMultiplier, double unetMultiplier) {}

    private final List<Applied> loras;
    private final Set<String> matched = Collections.synchronizedSet(new LinkedHashSet<>());

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
                for (Target target : targets(key, config)) {
                    for (Applied a : loras) {
                        LoraFile.Module m = a.file().modules().get(target.module());
                        if (m != null) {
                            merge(w, a, m, target.text() ? a.textMultiplier() : a.unetMultiplier());
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

    /** A kohya module a checkpoint weight belongs to, and whether it is in the text encoder. */
    record Target(String module, boolean text) {}

    /**
     * The kohya modules that may name a checkpoint weight: its path with the prefix swapped and dots made
     * underscores, and for the UNet also its path in diffusers' layout (kohya names SD 1.x/2.x LoRAs after
     * diffusers' UNet, SDXL LoRAs after the CompVis one).
     */
    static java.util.List<Target> targets(String key, ModelConfig config) {
        if (!key.endsWith(".weight")) {
            return List.of();
        }
        String path = key.substring(0, key.length() - ".weight".length());
        for (Map.Entry<String, String> p : prefixes(config.architecture()).entrySet()) {
            if (path.startsWith(p.getKey())) {
                String inner = path.substring(p.getKey().length());
                boolean text = !p.getValue().equals("lora_unet_");
                List<Target> out = new ArrayList<>();
                out.add(new Target(p.getValue() + inner.replace('.', '_'), text));
                String diffusers = text ? null : DiffusersUNetNames.of(inner, config.unet());
                if (diffusers != null && !diffusers.equals(inner)) {
                    out.add(new Target(p.getValue() + diffusers.replace('.', '_'), false));
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

    private static void merge(Tensor w, Applied a, LoraFile.Module m, double multiplier) {
        try (PointerScope scope = new PointerScope(); SafetensorsFile f = SafetensorsFile.open(a.file().path())) {
            Tensor down = Tensors.readFloat(f, m.down());
            Tensor up = Tensors.readFloat(f, m.up());
            if (down.dim() < 2 || up.dim() < 2 || down.size(0) < 1) {
                throw new ModelFileException(a.file().path() + ": LoRA module " + m.down() + " has shapes "
                        + Tensors.shapeString(down) + " / " + Tensors.shapeString(up) + " (expected [r, in...] / [out, r...])");
            }
            long rank = down.size(0);
            if (up.size(1) != rank || up.size(0) != w.size(0) || down.numel() / rank != w.numel() / w.size(0)) {
                throw new ModelFileException(a.file().path() + ": LoRA module " + m.down() + " has shapes "
                        + Tensors.shapeString(down) + " / " + Tensors.shapeString(up) + " that do not fit the weight "
                        + Tensors.shapeString(w));
            }
            double alpha = m.alpha() == null ? rank : Tensors.toFloats(Tensors.readFloat(f, m.alpha()))[0];
            Tensor delta = up.reshape(up.size(0), rank).matmul(down.reshape(rank, -1)).reshape(w.sizes().vec().get());
            Tensor merged = w.to(w.device(), ScalarType.Float).add(delta.to(w.device(), ScalarType.Float)
                    .mul(s(multiplier)).mul(s(alpha / rank)));
            w.copy_(merged);
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
