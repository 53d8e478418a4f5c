package org.repopt.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The input and class checks every architecture spec shares, with each spec's own name in the message. */
class ClassifierSpecTest {

    private static String message(Executable e) {
        return assertThrows(IllegalArgumentException.class, e).getMessage();
    }

    @Test
    void vggSpecNamesItselfInTheSharedChecks() {
        assertEquals("spec tiny: input shape must be positive, got 1x0x8", message(() -> VggSpec.builder("tiny")
                .input(1, 0, 8).classes(3).stem(4, 1).stage(1, 4, 2).build()));
        assertEquals("spec tiny: needs at least 2 classes, got 1", message(() -> VggSpec.builder("tiny")
                .input(1, 8, 8).classes(1).stem(4, 1).stage(1, 4, 2).build()));
        assertEquals("spec name must not be empty", message(() -> VggSpec.builder(" ").input(0, 8, 8).build()),
                "the name is checked first");
        assertEquals("spec tiny: needs at least one stage", message(() -> VggSpec.builder("tiny").input(1, 8, 8)
                .classes(3).stem(4, 1).build()), "the VGG's own checks follow the shared ones");
    }

    @Test
    void ghostNetSpecNamesItselfInTheSharedChecks() {
        GhostNetSpec half = GhostNetSpec.of(0.5);
        assertEquals("RepOpt-GhostNet 0.5x: input shape must be positive, got 3x0x32",
                message(() -> half.withInput(3, 0, 32)));
        assertEquals("RepOpt-GhostNet 0.5x: needs at least 2 classes, got 0", message(() -> half.withClasses(0)));
        assertEquals("RepOpt-GhostNet 0.5x: dropout must be in [0, 1), got 1.0", message(() -> half.withDropout(1)));
        assertEquals("RepOpt-GhostNet width multiplier must be finite and > 0, got -1.0",
                message(() -> GhostNetSpec.of(-1)));
    }

    @Test
    void theSharedPartTakesPartInEqualityAndText() {
        VggSpec small = VggSpec.small();
        assertEquals(small, small.withInput(1, 28, 28).withClasses(10));
        assertEquals(small.hashCode(), small.withInput(1, 28, 28).hashCode());
        assertNotEquals(small, small.withInput(3, 28, 28));
        assertNotEquals(small, small.withClasses(11));
        assertEquals("3x32x32", small.withInput(3, 32, 32).inputShape());
        GhostNetSpec ghost = GhostNetSpec.of(0.5).withInput(3, 32, 32).withClasses(10);
        assertEquals(ghost, GhostNetSpec.of(0.5).withClasses(10).withInput(3, 32, 32));
        assertNotEquals(ghost, ghost.withInput(3, 64, 32));
        assertNotEquals(ghost, ghost.withClasses(9));
        assertEquals("GhostNetSpec{0.5x, input 3x32x32, 10 classes, dropout 0.2}", ghost.toString());
        assertEquals(10, ghost.numClasses());
        assertEquals(32, ghost.inputHeight());
    }
}
