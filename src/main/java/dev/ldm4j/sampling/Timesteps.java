package dev.ldm4j.sampling;

import static dev.ldm4j.nn.Ops.s;

import dev.ldm4j.io.BadRequestException;
import java.util.Arrays;
import org.bytedeco.pytorch.Tensor;

/**
 * Integer DDPM timesteps in the order they are visited (descending), for ddim, plms and ddpm.
 *
 * @param values the timesteps, strictly descending, each in [0, schedule size)
 */
public record Timesteps(int[] values) implements Plan {
    public Timesteps {
        values = values.clone();
        for (int i = 1; i < values.length; i++) {
            if (values[i] >= values[i - 1]) {
                throw new IllegalArgumentException("timesteps must descend: " + Arrays.toString(values));
            }
        }
        if (values.length > 0 && values[values.length - 1] < 0) {
            throw new IllegalArgumentException("negative timestep in " + Arrays.toString(values));
        }
    }

    /**
     * CompVis make_ddim_timesteps("uniform"): 1 + range(0, size, size // steps), visited in reverse (10 steps:
     * 901, 801, ..., 1). When size is not a multiple of steps this gives more timesteps than asked for (30 ->
     * 31), as in CompVis; values that would reach {@code size} (where CompVis fails with an index error, e.g.
     * 3 steps -> 1000) are left out.
     */
    public static Timesteps uniform(int size, int steps) {
        if (steps < 1 || steps > size) {
            throw new BadRequestException("steps must be in [1, " + size + "], got " + steps);
        }
        int stride = size / steps;
        int count = 0;
        for (int t = 0; t < size; t += stride) {
            if (t + 1 < size) {
                count++;
            }
        }
        int[] v = new int[count];
        for (int i = 0; i < count; i++) {
            v[i] = (count - 1 - i) * stride + 1;
        }
        return new Timesteps(v);
    }

    @Override
    public int[] values() {
        return values.clone();
    }

    public int get(int index) {
        return values[index];
    }

    @Override
    public int steps() {
        return values.length;
    }

    @Override
    public Timesteps from(int start) {
        if (start < 0 || start > values.length) {
            throw new IllegalArgumentException("start " + start + " outside [0, " + values.length + "]");
        }
        return new Timesteps(Arrays.copyOfRange(values, start, values.length));
    }

    /** The DDIM samplers start from x_T itself. */
    @Override
    public Tensor initialLatent(Tensor unitNoise) {
        return unitNoise;
    }

    /** q_sample: sqrt(a) x0 + sqrt(1 - a) noise, a = alphas_cumprod at timestep {@code values[index]}. */
    @Override
    public Tensor addNoise(NoiseSchedule schedule, int index, Tensor x0, Tensor noise) {
        float a = schedule.alphaCumprod(values[index]);
        return x0.mul(s((float) Math.sqrt(a))).add(noise, s((float) Math.sqrt(1f - a)));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Timesteps t && Arrays.equals(values, t.values);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(values);
    }

    @Override
    public String toString() {
        return "Timesteps" + Arrays.toString(values);
    }
}
