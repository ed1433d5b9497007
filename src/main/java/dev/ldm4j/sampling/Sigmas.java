package dev.ldm4j.sampling;

import static dev.ldm4j.nn.Ops.s;

import java.util.Arrays;
import org.bytedeco.pytorch.Tensor;

/**
 * k-diffusion noise levels, descending, ending with the target level (0 for a full run): steps + 1 values.
 *
 * @param values float32 noise levels, non-increasing
 */
public record Sigmas(float[] values) implements Plan {
    public Sigmas {
        values = values.clone();
        if (values.length < 1) {
            throw new IllegalArgumentException("sigmas need at least the final level");
        }
        for (int i = 0; i < values.length; i++) {
            if (!(values[i] >= 0f) || (i > 0 && values[i] > values[i - 1])) {
                throw new IllegalArgumentException("sigmas must be non-negative and non-increasing: "
                        + Arrays.toString(values));
            }
        }
    }

    @Override
    public float[] values() {
        return values.clone();
    }

    public float get(int index) {
        return values[index];
    }

    @Override
    public int steps() {
        return values.length - 1;
    }

    @Override
    public Sigmas from(int start) {
        if (start < 0 || start > steps()) {
            throw new IllegalArgumentException("start " + start + " outside [0, " + steps() + "]");
        }
        return new Sigmas(Arrays.copyOfRange(values, start, values.length));
    }

    /** x_T * sigmas[0] (k-diffusion; not x_T * sqrt(1 + sigma^2), which is diffusers' scaling). */
    @Override
    public Tensor initialLatent(Tensor unitNoise) {
        return unitNoise.mul(s(values[0]));
    }

    /** x0 + sigma * noise at sigma = {@code values[index]} (the schedule is not needed). */
    @Override
    public Tensor addNoise(NoiseSchedule schedule, int index, Tensor x0, Tensor noise) {
        return x0.add(noise, s(values[index]));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Sigmas t && Arrays.equals(values, t.values);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(values);
    }

    @Override
    public String toString() {
        return "Sigmas" + Arrays.toString(values);
    }
}
