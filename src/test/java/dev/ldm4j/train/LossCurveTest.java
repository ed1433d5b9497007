package dev.ldm4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ldm4j.io.Images;
import dev.ldm4j.io.RgbImage;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LossCurveTest {
    @Test
    void aFallingLossIsDrawnHighOnTheLeftAndLowOnTheRight(@TempDir Path dir) throws Exception {
        StringBuilder csv = new StringBuilder("step,loss,lr\n");
        for (int s = 1; s <= 400; s++) {
            csv.append(s).append(',').append(1.0 / Math.sqrt(s)).append(",0.0001\n");
        }
        Files.writeString(dir.resolve(TrainingRun.LOSSES), csv);
        new LossCurve(dir).onCheckpoint(400, null, null, null);
        RgbImage img = Images.readRgb(dir.resolve("losses.png"));
        assertEquals(LossCurve.WIDTH, img.width());
        // the blue curve: its highest point is near the left edge, its lowest near the right
        int leftTop = Integer.MAX_VALUE;
        int rightTop = Integer.MAX_VALUE;
        for (int y = 0; y < img.height(); y++) {
            for (int x = 0; x < img.width(); x++) {
                boolean blue = img.get(x, y, 2) > 150 && img.get(x, y, 0) < 100;
                if (blue && x < 100) {
                    leftTop = Math.min(leftTop, y);
                }
                if (blue && x > img.width() - 100) {
                    rightTop = Math.min(rightTop, y);
                }
            }
        }
        assertTrue(leftTop < rightTop, "curve does not fall: " + leftTop + " vs " + rightTop);
    }
}
