package dev.ldm4j.train;

import dev.ldm4j.io.Images;
import dev.ldm4j.io.RgbImage;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The loss curve of a run as a PNG beside its {@code losses.csv}, redrawn at every checkpoint: every step's
 * loss in grey, an exponential moving average in blue, log-scaled loss axis. A failure to draw is logged,
 * never fatal to the training.
 */
public final class LossCurve implements TrainListener {
    private static final Logger LOG = LoggerFactory.getLogger(LossCurve.class);
    static final int WIDTH = 720;
    static final int HEIGHT = 400;
    private static final int MARGIN = 50;

    private final Path csv;
    private final Path png;

    public LossCurve(Path runDir) {
        this.csv = runDir.resolve(TrainingRun.LOSSES);
        this.png = runDir.resolve("losses.png");
    }

    @Override
    public void onCheckpoint(long step, Path model, Path config, Path state) {
        try {
            write(csv, png);
        } catch (IOException | RuntimeException e) {
            LOG.warn("could not draw {}: {}", png, e.getMessage());
        }
    }

    /** Draws the {@code step} and {@code loss} columns of {@code csv} into {@code png}. */
    static void write(Path csv, Path png) throws IOException {
        List<String> lines = Files.readAllLines(csv);
        if (lines.size() < 3) {
            return;
        }
        List<String> header = List.of(lines.get(0).split(","));
        int stepCol = header.indexOf("step");
        int lossCol = header.indexOf("loss");
        if (stepCol < 0 || lossCol < 0) {
            throw new IOException(csv + " has no step/loss columns");
        }
        List<double[]> points = new ArrayList<>();
        for (String line : lines.subList(1, lines.size())) {
            String[] f = line.split(",");
            double loss = Double.parseDouble(f[lossCol]);
            if (loss > 0 && Double.isFinite(loss)) {
                points.add(new double[] {Double.parseDouble(f[stepCol]), loss});
            }
        }
        if (points.size() < 2) {
            return;
        }
        double x0 = points.get(0)[0];
        double x1 = points.get(points.size() - 1)[0];
        double lo = points.stream().mapToDouble(p -> p[1]).min().orElse(1);
        double hi = points.stream().mapToDouble(p -> p[1]).max().orElse(1);
        double ly0 = Math.log10(lo);
        double ly1 = Math.max(Math.log10(hi), ly0 + 1e-6);
        BufferedImage img = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, WIDTH, HEIGHT);
        g.setColor(Color.GRAY);
        g.drawRect(MARGIN, MARGIN / 2, WIDTH - MARGIN - 10, HEIGHT - MARGIN - MARGIN / 2);
        double ema = points.get(0)[1];
        int[] prev = null;
        for (double[] p : points) {
            int x = MARGIN + (int) Math.round((p[0] - x0) / Math.max(1, x1 - x0) * (WIDTH - MARGIN - 10));
            g.setColor(new Color(200, 200, 200));
            g.fillRect(x, y(p[1], ly0, ly1), 1, 1);
            ema = 0.98 * ema + 0.02 * p[1];
            int[] cur = {x, y(ema, ly0, ly1)};
            if (prev != null) {
                g.setColor(new Color(30, 90, 200));
                g.setStroke(new BasicStroke(2f));
                g.drawLine(prev[0], prev[1], cur[0], cur[1]);
            }
            prev = cur;
        }
        g.setColor(Color.DARK_GRAY);
        g.drawString(String.format(Locale.ROOT, "%.3g", hi), 4, MARGIN / 2 + 10);
        g.drawString(String.format(Locale.ROOT, "%.3g", lo), 4, HEIGHT - MARGIN);
        g.drawString("step " + (long) x0, MARGIN, HEIGHT - MARGIN / 2 + 5);
        g.drawString(String.format(Locale.ROOT, "step %d, loss (EMA) %.4f", (long) x1, ema), WIDTH - 230,
                HEIGHT - MARGIN / 2 + 5);
        g.dispose();
        byte[] px = new byte[WIDTH * HEIGHT * 3];
        for (int y = 0; y < HEIGHT; y++) {
            for (int x = 0; x < WIDTH; x++) {
                int rgb = img.getRGB(x, y);
                int i = (y * WIDTH + x) * 3;
                px[i] = (byte) (rgb >> 16);
                px[i + 1] = (byte) (rgb >> 8);
                px[i + 2] = (byte) rgb;
            }
        }
        Images.writePng(png, new RgbImage(WIDTH, HEIGHT, px), Map.of("Title", "loss curve of " + csv));
    }

    private static int y(double loss, double ly0, double ly1) {
        double t = (Math.log10(loss) - ly0) / (ly1 - ly0);
        return (HEIGHT - MARGIN) - (int) Math.round(t * (HEIGHT - MARGIN - MARGIN / 2));
    }
}
