package dev.ldm4j.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds the (image, caption) pairs of a dataset folder, by one of two conventions:
 * <ul>
 *   <li>{@code metadata.jsonl} (Hugging Face imagefolder): one JSON object per line with {@code file_name}
 *       (relative to the folder, may name a subfolder) and {@code text}; when the file exists it alone
 *       defines the dataset;</li>
 *   <li>otherwise (kohya sd-scripts, AUTOMATIC1111): every image directly in the folder (not in subfolders)
 *       with the extension png, jpg, jpeg, webp or bmp (any case), captioned by the UTF-8 {@code .txt} of the
 *       same name ({@code cat.png} → {@code cat.txt}).</li>
 * </ul>
 * Captions are trimmed and every run of whitespace (line breaks included) becomes one space. Files whose
 * name starts with a dot are ignored. What cannot be used is skipped with a warning naming it.
 */
final class DatasetScan {
    static final String METADATA = "metadata.jsonl";
    static final Set<String> IMAGE_EXTENSIONS = Set.of("png", "jpg", "jpeg", "webp", "bmp");

    private static final Logger LOG = LoggerFactory.getLogger(DatasetScan.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One usable pair; {@code name} is the path relative to the folder with '/' separators. */
    record Entry(String name, Path file, String caption) {}

    record Result(List<Entry> entries, List<Skipped> skipped) {}

    private final Path folder;
    private final List<Entry> entries = new ArrayList<>();
    private final List<Skipped> skipped = new ArrayList<>();

    private DatasetScan(Path folder) {
        this.folder = folder;
    }

    /** The pairs in name order (String order, the same on every file system). */
    static Result scan(Path folder) {
        if (!Files.exists(folder)) {
            throw new DatasetException("dataset folder " + folder + " does not exist");
        }
        if (!Files.isDirectory(folder)) {
            throw new DatasetException("dataset folder " + folder + " is not a directory");
        }
        if (!Files.isReadable(folder)) {
            throw new DatasetException("dataset folder " + folder + " cannot be read (permission denied)");
        }
        DatasetScan s = new DatasetScan(folder);
        Path meta = folder.resolve(METADATA);
        if (Files.exists(meta)) {
            s.readMetadata(meta);
        } else {
            s.readCaptionFiles();
        }
        s.entries.sort(Comparator.comparing(Entry::name));
        return new Result(List.copyOf(s.entries), List.copyOf(s.skipped));
    }

    static String normaliseCaption(String text) {
        String t = text.startsWith("\uFEFF") ? text.substring(1) : text;
        return t.strip().replaceAll("\\s+", " ");
    }

    void skip(String name, String reason) {
        LOG.warn("dataset {}: skipping {}: {}", folder, name, reason);
        skipped.add(new Skipped(name, reason));
    }

    private void readCaptionFiles() {
        List<Path> images;
        try (Stream<Path> files = Files.list(folder)) {
            images = files.filter(p -> !p.getFileName().toString().startsWith("."))
                    .filter(p -> IMAGE_EXTENSIONS.contains(extension(p)))
                    .filter(Files::isRegularFile)
                    .toList();
        } catch (IOException | RuntimeException e) {
            throw new DatasetException("dataset folder " + folder + " cannot be listed: " + e.getMessage(), e);
        }
        for (Path image : images) {
            String name = image.getFileName().toString();
            String stem = name.substring(0, name.lastIndexOf('.'));
            Path txt = image.resolveSibling(stem + ".txt");
            if (!Files.isRegularFile(txt)) {
                skip(name, "no caption file " + stem + ".txt");
                continue;
            }
            String caption;
            try {
                caption = normaliseCaption(decodeUtf8(Files.readAllBytes(txt)));
            } catch (CharacterCodingException e) {
                skip(name, "caption file " + stem + ".txt is not UTF-8 text");
                continue;
            } catch (IOException e) {
                skip(name, "caption file " + stem + ".txt cannot be read (" + e.getMessage() + ")");
                continue;
            }
            if (caption.isEmpty()) {
                skip(name, "caption file " + stem + ".txt is empty");
                continue;
            }
            entries.add(new Entry(name, image, caption));
        }
    }

    private void readMetadata(Path meta) {
        List<String> lines;
        try {
            lines = List.of(decodeUtf8(Files.readAllBytes(meta)).split("\r?\n", -1));
        } catch (IOException e) {
            throw new DatasetException("dataset folder " + folder + ": " + METADATA + " cannot be read ("
                    + e.getMessage() + ")", e);
        }
        Path root = folder.toAbsolutePath().normalize();
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (i == 0 && line.startsWith("\uFEFF")) {
                line = line.substring(1).strip();
            }
            if (line.isEmpty()) {
                continue;
            }
            String where = METADATA + " line " + (i + 1);
            JsonNode node;
            try {
                node = JSON.readTree(line);
            } catch (IOException e) {
                skip(where, "not valid JSON (" + firstLine(e.getMessage()) + ")");
                continue;
            }
            if (node == null || !node.isObject()) {
                skip(where, "not a JSON object");
                continue;
            }
            JsonNode file = node.get("file_name");
            JsonNode text = node.get("text");
            if (file == null || !file.isTextual() || file.asText().isBlank()) {
                skip(where, "no \"file_name\" string");
                continue;
            }
            String name = file.asText().replace('\\', '/');
            if (text == null || !text.isTextual()) {
                skip(name, where + " has no \"text\" string");
                continue;
            }
            String caption = normaliseCaption(text.asText());
            if (caption.isEmpty()) {
                skip(name, where + " has an empty \"text\"");
                continue;
            }
            Path image;
            try {
                image = root.resolve(name).normalize();
            } catch (RuntimeException e) {
                skip(name, where + " names an invalid path");
                continue;
            }
            if (!image.startsWith(root) || image.equals(root)) {
                skip(name, where + " names a file outside the dataset folder");
                continue;
            }
            name = root.relativize(image).toString().replace(image.getFileSystem().getSeparator(), "/");
            if (!seen.add(name)) {
                skip(name, where + " repeats a file already listed (the first caption is kept)");
                continue;
            }
            if (!Files.isRegularFile(image)) {
                skip(name, where + " names a file that does not exist");
                continue;
            }
            entries.add(new Entry(name, image, caption));
        }
    }

    static boolean webpReadable() {
        return ImageIO.getImageReadersBySuffix("webp").hasNext();
    }

    static String extension(Path p) {
        String n = p.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot < 0 ? "" : n.substring(dot + 1).toLowerCase(Locale.ROOT);
    }

    private static String decodeUtf8(byte[] bytes) throws CharacterCodingException {
        return StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(bytes)).toString();
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
