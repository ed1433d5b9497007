package dev.ldm4j;

import dev.ldm4j.nn.Torch;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import org.bytedeco.pytorch.InferenceMode;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.InvocationInterceptor;
import org.junit.jupiter.api.extension.ReflectiveInvocationContext;

/**
 * Runs every test of a class twice: inside libtorch's inference mode, the path {@code generate} runs (where
 * {@code Linear} takes oneDNN and the kernels differ from grad mode), then in grad mode, the path training
 * runs. A component's golden test thus covers both, and neither alone.
 */
public final class BothGradModes implements InvocationInterceptor {
    @Override
    public void interceptTestMethod(Invocation<Void> invocation, ReflectiveInvocationContext<Method> context,
                                    ExtensionContext extension) throws Throwable {
        twice(invocation, context);
    }

    @Override
    public void interceptTestTemplateMethod(Invocation<Void> invocation, ReflectiveInvocationContext<Method> context,
                                            ExtensionContext extension) throws Throwable {
        twice(invocation, context);
    }

    private static void twice(Invocation<Void> invocation, ReflectiveInvocationContext<Method> context)
            throws Throwable {
        Torch.load();
        try (InferenceMode inference = new InferenceMode()) {
            invocation.proceed();
        }
        Method m = context.getExecutable();
        m.setAccessible(true);
        try {
            m.invoke(context.getTarget().orElse(null), context.getArguments().toArray());
        } catch (InvocationTargetException e) {
            throw new AssertionError("in grad mode (the training path): " + e.getCause().getMessage(), e.getCause());
        }
    }
}
