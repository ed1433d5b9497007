package dev.ldm4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The packages depend in one direction, top to bottom (DESIGN.md): a package may use itself and the packages
 * on the levels below its own, never one beside it or above it. Subpackages count as their parent
 * ({@code train.vae} is {@code train}); the root package {@code dev.ldm4j} (the public facade) may use
 * anything, and nothing may use it. A package missing from {@link #LEVELS} is a violation too, so that a new
 * package is placed on purpose. Read from the sources: {@code import} lines (static ones too) and fully
 * qualified {@code dev.ldm4j.x.} names in code (comments and strings left out).
 */
class LayeringTest {
    /** The root package's name in {@link #LEVELS}. */
    private static final String ROOT = "";

    /** Top to bottom; the packages of one level sit side by side and use none of each other. */
    static final List<List<String>> LEVELS = List.of(
            List.of(ROOT, "cli"),
            // below cli: `ldm4j batch` starts it; it reads its rows with the server's AUTOMATIC1111 request format
            List.of("spark"),
            // below cli: `ldm4j serve` starts it
            List.of("server"),
            List.of("train", "eval"),
            List.of("pipeline"),
            List.of("model"),
            List.of("text", "unet", "vae", "data"),
            List.of("sampling"),
            List.of("nn"),
            List.of("io"));

    private static final Path SOURCES = Path.of("src/main/java/dev/ldm4j");
    private static final Pattern IMPORT = Pattern.compile("^\\s*import\\s+(?:static\\s+)?dev\\.ldm4j\\.([\\w.]+)\\s*;");
    private static final Pattern QUALIFIED = Pattern.compile("(?<![\\w.])dev\\.ldm4j\\.(\\w+)\\.");

    @Test
    void noPackageUsesOneBesideOrAboveIt() throws IOException {
        List<String> violations = new ArrayList<>();
        int files = 0;
        try (Stream<Path> paths = Files.walk(SOURCES)) {
            for (Path p : paths.filter(f -> f.toString().endsWith(".java")).sorted().toList()) {
                files++;
                violations.addAll(check(SOURCES.relativize(p), Files.readString(p)));
            }
        }
        assertTrue(files > 100, "found only " + files + " sources under " + SOURCES.toAbsolutePath());
        assertTrue(violations.isEmpty(), violations.size() + " uses against the layering (top to bottom: "
                + describe() + "):\n" + String.join("\n", violations));
    }

    /** The checker finds what it must and nothing in comments or strings. */
    @Test
    void theCheckerSeesImportsAndQualifiedNamesOnly() {
        String source = """
                package dev.ldm4j.nn;

                import dev.ldm4j.io.DType;
                import static dev.ldm4j.sampling.Samplers.byName;
                import dev.ldm4j.nn.Ops;

                /** Not a use: {@link dev.ldm4j.model.ModelLoader}. */
                final class X {
                    // dev.ldm4j.cli.Main is a comment
                    String s = "dev.ldm4j.train.Foo.";
                    Object o = dev.ldm4j.pipeline.Generator.class;
                    Object fine = dev.ldm4j.io.Images.class;
                }
                """;
        List<String> v = check(Path.of("nn/X.java"), source);
        assertEquals(2, v.size(), String.join("\n", v));
        assertTrue(v.get(0).startsWith("nn/X.java:4: nn uses sampling"), v.get(0));
        assertTrue(v.get(1).startsWith("nn/X.java:11: nn uses pipeline"), v.get(1));
        assertEquals(1, check(Path.of("eval/X.java"), "import dev.ldm4j.train.EpochOrder;\n").size(),
                "side by side");
        assertEquals(1, check(Path.of("cli/X.java"), "import dev.ldm4j.StableDiffusion;\n").size(),
                "nothing uses the facade");
        assertTrue(check(Path.of("StableDiffusion.java"), "import dev.ldm4j.cli.Main;\n").isEmpty(),
                "the facade uses anything");
        assertTrue(check(Path.of("train/vae/X.java"), "import dev.ldm4j.train.Autocast;\n").isEmpty(),
                "a subpackage is its parent");
        assertTrue(check(Path.of("newpkg/X.java"), "").get(0).contains("not in the layering"));
    }

    /** The violations of one source file; {@code file} is relative to {@code dev/ldm4j}. */
    static List<String> check(Path file, String source) {
        String from = file.getNameCount() == 1 ? ROOT : file.getName(0).toString();
        List<String> out = new ArrayList<>();
        if (level(from) < 0) {
            out.add(file + ": package " + name(from) + " is not in the layering order; add it to LayeringTest.LEVELS");
            return out;
        }
        String[] lines = source.split("\n", -1);
        String[] code = withoutCommentsAndStrings(source).split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            Matcher imp = IMPORT.matcher(code[i]);
            if (imp.find()) {
                checkUse(file, i + 1, from, packageOf(imp.group(1)), lines[i].strip(), out);
                continue;
            }
            if (code[i].strip().startsWith("package ")) {
                continue;
            }
            Matcher q = QUALIFIED.matcher(code[i]);
            while (q.find()) {
                checkUse(file, i + 1, from, packageOf(q.group(1) + "."), lines[i].strip(), out);
            }
        }
        return out;
    }

    private static void checkUse(Path file, int line, String from, String to, String text, List<String> out) {
        if (from.equals(to) || from.equals(ROOT)) {
            return;
        }
        int f = level(from);
        int t = level(to);
        if (t < 0 || t <= f) {
            String why = t < 0 ? to + " is not in the layering order"
                    : t == f ? "side by side" : to + " sits above " + name(from);
            out.add(file + ":" + line + ": " + name(from) + " uses " + name(to) + " (" + why + "): " + text);
        }
    }

    /** The top-level package of a name after {@code dev.ldm4j.}: "train" for "train.vae.X", root for "X". */
    private static String packageOf(String rest) {
        String first = rest.contains(".") ? rest.substring(0, rest.indexOf('.')) : rest;
        return Character.isUpperCase(first.charAt(0)) ? ROOT : first;
    }

    /** Index in {@link #LEVELS}, 0 at the top; -1 when absent. */
    private static int level(String pkg) {
        for (int i = 0; i < LEVELS.size(); i++) {
            if (LEVELS.get(i).contains(pkg)) {
                return i;
            }
        }
        return -1;
    }

    private static String name(String pkg) {
        return pkg.isEmpty() ? "dev.ldm4j (root)" : pkg;
    }

    private static String describe() {
        return String.join(" > ", LEVELS.stream().map(l -> String.join(", ", l.stream().map(LayeringTest::name)
                .toList())).toList());
    }

    /** The source with comments, string and char literals blanked out, line breaks kept. */
    static String withoutCommentsAndStrings(String s) {
        StringBuilder out = new StringBuilder(s.length());
        int i = 0;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (s.startsWith("//", i)) {
                while (i < s.length() && s.charAt(i) != '\n') {
                    out.append(' ');
                    i++;
                }
            } else if (s.startsWith("/*", i)) {
                int end = s.indexOf("*/", i + 2);
                end = end < 0 ? s.length() : end + 2;
                for (; i < end; i++) {
                    out.append(s.charAt(i) == '\n' ? '\n' : ' ');
                }
            } else if (s.startsWith("\"\"\"", i)) {
                int end = s.indexOf("\"\"\"", i + 3);
                end = end < 0 ? s.length() : end + 3;
                for (; i < end; i++) {
                    out.append(s.charAt(i) == '\n' ? '\n' : ' ');
                }
            } else if (c == '"' || c == '\'') {
                out.append(' ');
                i++;
                while (i < s.length() && s.charAt(i) != c && s.charAt(i) != '\n') {
                    if (s.charAt(i) == '\\') {
                        out.append(' ');
                        i++;
                    }
                    if (i < s.length()) {
                        out.append(' ');
                        i++;
                    }
                }
                if (i < s.length() && s.charAt(i) == c) {
                    out.append(' ');
                    i++;
                }
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }
}
