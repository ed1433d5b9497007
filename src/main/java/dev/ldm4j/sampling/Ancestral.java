package dev.ldm4j.sampling;

/**
 * k-diffusion get_ancestral_step: an ancestral step from sigma to sigma_next goes deterministically down to
 * {@code down}, then adds fresh noise of scale {@code up}, with up = min(sigma_next, eta sqrt(sigma_next^2
 * (sigma^2 - sigma_next^2) / sigma^2)) and down = sqrt(sigma_next^2 - up^2).
 */
record Ancestral(float down, float up) {
    static Ancestral of(float sigma, float next, double eta) {
        if (eta == 0) {
            return new Ancestral(next, 0f);
        }
        double s2 = (double) sigma * sigma;
        double n2 = (double) next * next;
        float up = (float) Math.min(next, eta * Math.sqrt(n2 * (s2 - n2) / s2));
        return new Ancestral((float) Math.sqrt(n2 - (double) up * up), up);
    }
}
