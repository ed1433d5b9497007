// Checks that a Spark barrier stage can host a c10d Gloo process group: WORLD barrier tasks start together, rank 0
// opens a TCPStore on its executor's host and tells the others its port through BarrierTaskContext.allGather,
// every task joins a ProcessGroupGloo and all-reduces a tensor. This is the skeleton `ldm4j train` on N
// machines would use (docs/distributed-training.md). Local mode here; not part of the build.
//
//   ./mvnw -q -B -DskipTests package
//   CP="target/classes:$(ls target/lib/*.jar target/spark-lib/*.jar | tr '\n' ':')"
//   javac -d /tmp/gloo -cp "$CP" scripts/distributed/BarrierGlooProbe.java
//   java $(spark opens of the ldm4j script) -cp "$CP:/tmp/gloo" BarrierGlooProbe 2
import java.io.IOException;
import java.io.Serializable;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.BarrierTaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.bytedeco.pytorch.ProcessGroupGloo;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.TCPStore;
import org.bytedeco.pytorch.TCPStoreOptions;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import scala.collection.Iterator;
import scala.jdk.javaapi.CollectionConverters;
import scala.reflect.ClassTag$;
import scala.runtime.AbstractFunction1;

public class BarrierGlooProbe {
    public static void main(String[] args) {
        int world = Integer.parseInt(args[0]);
        SparkSession spark = SparkSession.builder().master("local[" + world + "]").appName("barrier-gloo")
                .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1").getOrCreate();
        List<Integer> ranks = new ArrayList<>();
        for (int i = 0; i < world; i++) {
            ranks.add(i);
        }
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Object lines = sc.parallelize(ranks, world).rdd().barrier()
                .mapPartitions(new Rank(), false, ClassTag$.MODULE$.apply(String.class)).collect();
        for (String line : (String[]) lines) {
            System.out.println(line);
        }
        spark.stop();
    }

    /** One rank: join the process group, all-reduce, report. */
    static final class Rank extends AbstractFunction1<Iterator<Integer>, Iterator<String>> implements Serializable {
        @Override
        public Iterator<String> apply(Iterator<Integer> ignored) {
            BarrierTaskContext ctx = BarrierTaskContext.get();
            int rank = ctx.partitionId();
            int world = ctx.getTaskInfos().length;
            String host = ctx.getTaskInfos()[0].address().replaceAll(":\\d+$", "");
            String port = rank == 0 ? Integer.toString(freePort()) : "";
            String masterPort = ctx.allGather(port)[0];
            TCPStoreOptions o = new TCPStoreOptions();
            o.port((short) Integer.parseInt(masterPort)); // a uint16_t in C++: the cast keeps its bits
            o.isServer(rank == 0);
            TCPStore store = new TCPStore(host, o);
            ProcessGroupGloo.Options options = ProcessGroupGloo.Options.create();
            options.devices().push_back(ProcessGroupGloo.createDeviceForHostname(host));
            ProcessGroupGloo group = new ProcessGroupGloo(store, rank, world, options);
            Tensor t = torch.ones(new long[] {4}).mul(new Scalar((double) (rank + 1)));
            group.allreduce(new TensorVector(t))._wait();
            ctx.barrier();
            String line = String.format("rank %d of %d (store %s:%s): all-reduce sum %.1f (expected %.1f)", rank, world,
                    host, masterPort, t.sum().item_float(), 4.0 * world * (world + 1) / 2);
            return CollectionConverters.asScala(List.of(line).iterator());
        }

        private static int freePort() {
            try (ServerSocket s = new ServerSocket(0)) {
                return s.getLocalPort();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
