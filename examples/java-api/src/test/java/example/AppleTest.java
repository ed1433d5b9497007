package example;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.PrintStream;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs the README's example as a user's project would: ldm4j as a Maven dependency, nothing else. */
class AppleTest {
    @Test
    void theReadmeExampleDrawsAnApple(@TempDir Path dir) throws Exception {
        File out = dir.resolve("apple.png").toFile();
        PrintStream stdout = System.out;
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        System.setOut(new PrintStream(printed, true, "UTF-8"));
        try {
            Apple.main(new String[] {out.getPath()});
        } finally {
            System.setOut(stdout);
        }
        BufferedImage image = ImageIO.read(out);
        assertEquals(64, image.getWidth(), "the default model's size");
        assertEquals(64, image.getHeight());
        String text = printed.toString("UTF-8");
        assertTrue(text.startsWith("...................."), "20 progress dots: " + text);
        assertTrue(text.contains("red apple\nSteps: 20, Sampler: Euler a") && text.contains("Seed: 1, Size: 64x64"),
                text);
        // a picture, not a flat field: the model drew something
        int first = image.getRGB(0, 0);
        boolean varied = false;
        for (int y = 0; y < 64 && !varied; y++) {
            for (int x = 0; x < 64 && !varied; x++) {
                varied = image.getRGB(x, y) != first;
            }
        }
        assertTrue(varied, "a flat image");
    }
}
