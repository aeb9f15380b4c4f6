package io.modelpress.model;

import java.util.Arrays;
import java.util.List;

/** Element counts and printing of tensor shapes, safe against absurd declared sizes. */
public final class Shapes {

    private Shapes() {
    }

    /**
     * Number of elements of a tensor with these dims.
     *
     * @throws ModelException when a dim is negative or the product overflows a long
     */
    public static long elementCount(String tensorName, List<Long> dims) {
        long count = 1;
        for (long dim : dims) {
            if (dim < 0) {
                throw new ModelException("tensor '" + tensorName + "' has a negative dimension in " + dims);
            }
            try {
                count = Math.multiplyExact(count, dim);
            } catch (ArithmeticException overflow) {
                throw new ModelException("tensor '" + tensorName + "' declares more elements than fit in 64 bits: " + dims);
            }
        }
        return count;
    }

    public static long elementCount(long[] dims) {
        long count = 1;
        for (long dim : dims) {
            count = Math.multiplyExact(count, dim);
        }
        return count;
    }

    /** The count as an array length, or a clear error for tensors too large for one Java array. */
    public static int arrayLength(String tensorName, long elements) {
        if (elements > Integer.MAX_VALUE - 16) {
            throw new ModelException("tensor '" + tensorName + "' has " + elements
                    + " elements, more than one array can hold; it cannot be processed in memory");
        }
        return (int) elements;
    }

    public static long[] toArray(List<Long> dims) {
        return dims.stream().mapToLong(Long::longValue).toArray();
    }

    public static String format(long[] dims) {
        return Arrays.toString(dims).replace(" ", "");
    }
}
