package dev.ldm4j.train;

/**
 * What one optimisation step did.
 *
 * @param step         the step's number (1-based; also the number of steps done)
 * @param loss         the batch loss before the update
 * @param learningRate the learning rate the update used
 * @param gradNorm     global gradient norm before clipping (NaN when clipping is off)
 * @param examples     examples in the batch
 * @param seconds      wall time of the step, data loading excluded
 */
public record StepResult(long step, double loss, double learningRate, double gradNorm, int examples,
                         double seconds) {
    public double examplesPerSecond() {
        return examples / seconds;
    }
}
