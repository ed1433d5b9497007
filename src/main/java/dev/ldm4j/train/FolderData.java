package dev.ldm4j.train;

import dev.ldm4j.io.ImageFileException;
import dev.ldm4j.io.ImageTensors;
import dev.ldm4j.io.Images;
import dev.ldm4j.io.RgbImage;
import dev.ldm4j.nn.Ops;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A minimal image-folder reader for {@code ldm4j train}: PNG/JPEG files of exactly the training size with
 * same-name {@code .txt} captions (the kohya / AUTOMATIC1111 convention). Unreadable images and images of
 * another size are skipped with a warning; a missing caption is the empty caption.
 *
 * <p>A stand-in until the data set package ({@code dev.ldm4j.train.data}: resizing, cropping, flips,
 * {@code metadata.jsonl}) is wired in; anything that yields {@link InMemoryData.Example}s can replace it.
 */
public final class FolderData {
    private static final Logger LOG = LoggerFactory.getLogger(FolderData.class);

    private FolderData() {}

    /** The examples of {@code dir}, in file-name order, images [3, size, size] in [-1, 1]. */
    public static List<InMemoryData.Example> read(Path dir, int size) {
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("training data folder " + dir
                    + (Files.exists(dir) ? " is not a folder" : " does not exist"));
        }
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> {
                String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
                return n.endsWith(".png") || n.endsWith(".jpg") || n.endsWith(".jpeg");
            }).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
        List<InMemoryData.Example> out = new ArrayList<>();
        for (Path f : files) {
            RgbImage img;
            try {
                img = Images.readRgb(f);
            } catch (ImageFileException e) {
                LOG.warn("skipping {}: {}", f.getFileName(), e.getMessage());
                continue;
            }
            if (img.width() != size || img.height() != size) {
                LOG.warn("skipping {}: {}x{}, not the training size {}x{}", f.getFileName(), img.width(),
                        img.height(), size, size);
                continue;
            }
            String name = f.getFileName().toString();
            Path txt = f.resolveSibling(name.substring(0, name.lastIndexOf('.')) + ".txt");
            String caption = "";
            if (Files.isRegularFile(txt)) {
                try {
                    caption = Files.readString(txt, StandardCharsets.UTF_8).strip();
                } catch (IOException e) {
                    LOG.warn("{}: caption unreadable ({}), using the empty caption", txt.getFileName(), e.getMessage());
                }
            } else {
                LOG.warn("{}: no caption file {}, using the empty caption", name, txt.getFileName());
            }
            Tensor image;
            try (PointerScope scope = new PointerScope()) {
                image = ImageTensors.toFloat(img).squeeze(0).mul(Ops.s(2)).sub(Ops.s(1));
                image.retainReference();
            }
            out.add(new InMemoryData.Example(name, caption, image));
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("no usable " + size + "x" + size + " images in " + dir);
        }
        LOG.info("{} training images from {}", out.size(), dir);
        return out;
    }
}
