package dev.ldm4j.vae;

import dev.ldm4j.io.ModelFileException;
import dev.ldm4j.io.SafetensorsFile;
import dev.ldm4j.nn.CheckpointSource;
import dev.ldm4j.nn.ParameterSource;
import dev.ldm4j.nn.Weights;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds and loads the TAESD encoder / decoder in a safetensors file, whatever member of the family it is
 * (latent channels and mid-block GroupNorm are read off the tensors). Two layouts are understood: the
 * original per-part files of madebyollin/taesd ({@code taesd_decoder.safetensors}: keys {@code 1.weight},
 * {@code 3.conv.0.weight}, ...) and the combined diffusers AutoencoderTiny file
 * ({@code encoder.layers.*}, {@code decoder.layers.*}, decoder indices one lower).
 */
public final class TaesdFiles {
    private static final Logger LOG = LoggerFactory.getLogger(TaesdFiles.class);

    private static final String DIFFUSERS_ENCODER = "encoder.layers.";
    private static final String DIFFUSERS_DECODER = "decoder.layers.";
    /** Index of the first mid block in each Sequential (its "pool" branch marks use_midblock_gn). */
    private static final int ENCODER_MID = 11;
    private static final int DECODER_MID = 3;
    private static final int ENCODER_LAST_CONV = TaesdEncoder.LAYERS - 1;

    private TaesdFiles() {}

    /** The encoder's variant, or empty when the file holds no TAESD encoder. */
    public static Optional<TaesdVariant> encoderVariant(SafetensorsFile f) {
        String p = f.has(DIFFUSERS_ENCODER + "0.weight") ? DIFFUSERS_ENCODER : "";
        String last = p + ENCODER_LAST_CONV + ".weight";
        if (!f.has(p + "0.weight") || !f.has(last) || !f.has(p + "1.conv.0.weight")) {
            return Optional.empty();
        }
        checkFirstConv(f, p + "0.weight", new long[] {TaesdEncoder.WIDTH, 3, 3, 3});
        int latent = (int) f.info(last).shape()[0];
        boolean gn = f.has(p + ENCODER_MID + ".pool.0.weight");
        return Optional.of(new TaesdVariant(latent, gn));
    }

    /** The decoder's variant, or empty when the file holds no TAESD decoder. */
    public static Optional<TaesdVariant> decoderVariant(SafetensorsFile f) {
        Layout layout = decoderLayout(f);
        if (layout == null) {
            return Optional.empty();
        }
        String first = layout.fileKey("1.weight");
        long[] shape = f.info(first).shape();
        if (shape.length != 4 || shape[0] != TaesdDecoder.WIDTH || shape[2] != 3 || shape[3] != 3) {
            throw new ModelFileException(f.path() + ": '" + first + "' has shape " + Arrays.toString(shape)
                    + "; not a supported TAESD decoder (expected [64, latent_channels, 3, 3])");
        }
        boolean gn = f.has(layout.fileKey(DECODER_MID + ".pool.0.weight"));
        return Optional.of(new TaesdVariant((int) shape[1], gn));
    }

    /** Builds the encoder held by {@code f}; the file may be closed afterwards. */
    public static TaesdEncoder encoder(SafetensorsFile f) {
        TaesdVariant v = encoderVariant(f).orElseThrow(() -> new ModelFileException(f.path()
                + ": no TAESD encoder in this file (expected keys '0.weight' ... '14.weight' or 'encoder.layers.*')"));
        String p = f.has(DIFFUSERS_ENCODER + "0.weight") ? DIFFUSERS_ENCODER : "";
        LOG.debug("{}: TAESD encoder, {} latent channels, midblock GroupNorm {}", f.path(), v.latentChannels(),
                v.midblockGn());
        return new TaesdEncoder(Weights.of(new CheckpointSource(f), p), v);
    }

    /** Builds the decoder held by {@code f}; the file may be closed afterwards. */
    public static TaesdDecoder decoder(SafetensorsFile f) {
        TaesdVariant v = decoderVariant(f).orElseThrow(() -> new ModelFileException(f.path()
                + ": no TAESD decoder in this file (expected keys '1.weight' ... '19.weight' or 'decoder.layers.*')"));
        Layout layout = decoderLayout(f);
        LOG.debug("{}: TAESD decoder, {} latent channels, midblock GroupNorm {}", f.path(), v.latentChannels(),
                v.midblockGn());
        ParameterSource src = new KeyMappedSource(new CheckpointSource(f), layout::fileKey);
        return new TaesdDecoder(Weights.of(src), v);
    }

    public static TaesdEncoder encoder(Path path) {
        try (SafetensorsFile f = SafetensorsFile.open(path)) {
            return encoder(f);
        }
    }

    public static TaesdDecoder decoder(Path path) {
        try (SafetensorsFile f = SafetensorsFile.open(path)) {
            return decoder(f);
        }
    }

    private static void checkFirstConv(SafetensorsFile f, String key, long[] expected) {
        long[] shape = f.info(key).shape();
        if (!Arrays.equals(shape, expected)) {
            throw new ModelFileException(f.path() + ": '" + key + "' has shape " + Arrays.toString(shape)
                    + "; not a supported TAESD encoder (expected " + Arrays.toString(expected) + ")");
        }
    }

    private static Layout decoderLayout(SafetensorsFile f) {
        if (f.has(DIFFUSERS_DECODER + "0.weight") && f.has(DIFFUSERS_DECODER + "2.conv.0.weight")) {
            return Layout.DIFFUSERS;
        }
        if (f.has("1.weight") && f.has("3.conv.0.weight") && f.has((TaesdDecoder.LAYERS - 1) + ".weight")) {
            return Layout.ORIGINAL;
        }
        return null;
    }

    /** Where the decoder's Sequential index {@code i} lives in the file. */
    private enum Layout {
        ORIGINAL {
            @Override
            String fileKey(String key) {
                return key;
            }
        },
        DIFFUSERS {
            @Override
            String fileKey(String key) {
                int dot = key.indexOf('.');
                int index = Integer.parseInt(key.substring(0, dot));
                return DIFFUSERS_DECODER + (index - 1) + key.substring(dot);
            }
        };

        abstract String fileKey(String key);
    }
}
