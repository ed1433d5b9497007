package dev.ldm4j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ldm4j.io.BadRequestException;
import dev.ldm4j.model.LoraTags;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How a served prompt's {@code <lora:NAME:M>} finds its file, in the folder and its subfolders. */
class LoraLibraryTest {
    private static Path touch(Path p) throws Exception {
        Files.createDirectories(p.getParent());
        return Files.write(p, new byte[] {0});
    }

    private static Path file(LoraLibrary lib, String name) {
        return lib.resolve(List.of(new LoraTags.Ref(name, 1, 1))).get(0).file();
    }

    @Test
    void subfoldersAreSearchedByFileNameAndTheFolderItselfWins(@TempDir Path dir) throws Exception {
        Path top = touch(dir.resolve("style.safetensors"));
        touch(dir.resolve("a-sub/style.safetensors"));
        Path first = touch(dir.resolve("chars/alice.safetensors"));
        touch(dir.resolve("chars/zz/alice.ckpt"));
        Path deep = touch(dir.resolve("chars/zz/bob.pt"));
        touch(dir.resolve(".trash/carol.safetensors"));
        touch(dir.resolve("chars/readme.txt"));
        Path tooDeep = dir.resolve("1/2/3/4/5/6/7/8/9/dave.safetensors");
        touch(tooDeep);
        // one name, two extensions in one folder: .safetensors before .ckpt, as the CLI tries them
        touch(dir.resolve("dup.ckpt"));
        Path dupTop = touch(dir.resolve("dup.safetensors"));
        touch(dir.resolve("chars/pair.ckpt"));
        Path pair = touch(dir.resolve("chars/pair.safetensors"));
        LoraLibrary lib = new LoraLibrary(dir);

        assertEquals(top, file(lib, "style"), "a file in the folder itself comes before a subfolder's");
        assertEquals(first, file(lib, "alice"), "of two in subfolders, the first in name order");
        assertEquals(deep, file(lib, "bob"));
        assertEquals(dupTop, file(lib, "dup"));
        assertEquals(pair, file(lib, "pair"));
        List<Bodies.LoraItem> listed = lib.list();
        assertEquals(List.of("alice", "bob", "dup", "pair", "style"), listed.stream().map(Bodies.LoraItem::name)
                .toList(), "one entry a name; hidden folders and the 9th level not searched");
        for (Bodies.LoraItem item : listed) {
            assertEquals(file(lib, item.name()).toAbsolutePath().toString(), item.path(),
                    "the listing shows the file a tag uses: " + item.name());
        }
        for (String name : List.of("carol", "dave", "readme", "chars/alice", "../style")) {
            BadRequestException e = assertThrows(BadRequestException.class, () -> file(lib, name), name);
            assertTrue(e.getMessage().contains("unknown LoRA " + name) && e.getMessage().contains("subfolders"),
                    e.getMessage());
        }
    }
}
