// Checks that libtorch's c10d Gloo process group works from Java through the bytedeco presets ldm4j uses:
// WORLD JVMs meet through a FileStore, all-reduce a small tensor (checked against the expected sum) and then
// time all-reduces of a gradient-sized buffer. docs/distributed-training.md has the figures. Not part of the build.
//
//   ./mvnw -q -B -DskipTests package
//   CP=$(ls target/lib/*.jar | tr '\n' ':'); javac -d /tmp/gloo -cp "$CP" scripts/distributed/GlooProbe.java
//   rm -f /tmp/gloo/store; for r in 0 1; do java -cp "$CP:/tmp/gloo" GlooProbe $r 2 /tmp/gloo/store 7000000 & done; wait
import org.bytedeco.pytorch.FileStore;
import org.bytedeco.pytorch.ProcessGroupGloo;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

public class GlooProbe {
    public static void main(String[] args) {
        int rank = Integer.parseInt(args[0]);
        int world = Integer.parseInt(args[1]);
        long floats = args.length > 3 ? Long.parseLong(args[3]) : 7_000_000L;
        FileStore store = new FileStore(args[2], world);
        ProcessGroupGloo.Options options = ProcessGroupGloo.Options.create();
        options.devices().push_back(ProcessGroupGloo.createDeviceForHostname("127.0.0.1"));
        ProcessGroupGloo group = new ProcessGroupGloo(store, rank, world, options);

        Tensor t = torch.ones(new long[] {4}).mul(new Scalar((double) (rank + 1)));
        group.allreduce(new TensorVector(t))._wait();
        double expected = 4.0 * world * (world + 1) / 2;
        System.out.printf("rank %d: all-reduce sum %.1f (expected %.1f)%n", rank, t.sum().item_float(), expected);

        Tensor g = torch.ones(new long[] {floats});
        group.allreduce(new TensorVector(g))._wait();
        int repeats = 5;
        long t0 = System.nanoTime();
        for (int i = 0; i < repeats; i++) {
            group.allreduce(new TensorVector(g))._wait();
        }
        System.out.printf("rank %d: all-reduce of %.1f MB (fp32): %.1f ms each%n", rank, floats * 4 / 1e6,
                (System.nanoTime() - t0) / 1e6 / repeats);
    }
}
