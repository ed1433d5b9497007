package example;

import dev.ldm4j.GeneratedImage;
import dev.ldm4j.ImageRequest;
import dev.ldm4j.StableDiffusion;
import java.io.File;
import java.io.IOException;
import javax.imageio.ImageIO;

/** The README's Java example: draws a red apple with ldm4j's own model into {@code apple.png} (or args[0]). */
public final class Apple {
    public static void main(String[] args) throws IOException {
        File out = new File(args.length > 0 ? args[0] : "apple.png");
        // README:begin
        try (StableDiffusion sd = StableDiffusion.load()) {                       // ldm4j's own model, offline
            ImageRequest request = ImageRequest.of("red apple").seed(1).steps(20);   // or .size(512, 512), .sampler("dpm++2m"), ...
            GeneratedImage apple = sd.generate(request, (step, total) -> System.out.print(".")).get(0);
            ImageIO.write(apple.image(), "png", out);
            System.out.println(apple.parameters());                                // AUTOMATIC1111's parameters text
        }
        // README:end
    }
}
