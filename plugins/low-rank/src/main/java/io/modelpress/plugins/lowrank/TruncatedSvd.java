package io.modelpress.plugins.lowrank;

import java.util.Arrays;
import java.util.Objects;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.SingularValueDecomposition_F64;

/**
 * Truncated SVD of a dense matrix with EJML, in double precision.
 *
 * <p>Only the singular vectors of the smaller side are computed: for a tall W (m ≥ n) the right
 * vectors V give the best rank-r approximation as (W·V_r)·V_rᵀ, for a wide one the left vectors U
 * give U_r·(U_rᵀ·W). Both are exactly the truncated SVD, and skipping the large side's vectors
 * roughly halves the work.
 */
final class TruncatedSvd {

    private TruncatedSvd() {
    }

    /**
     * Decomposes a row-major {@code rows × cols} matrix.
     *
     * @throws IllegalStateException when the decomposition does not converge
     */
    static Spectrum decompose(float[] values, int rows, int cols) {
        if (values.length != (long) rows * cols) {
            throw new IllegalArgumentException(values.length + " values do not make a " + rows + "×" + cols + " matrix");
        }
        boolean tall = rows >= cols;
        DMatrixRMaj matrix = new DMatrixRMaj(rows, cols);
        double[] data = matrix.data;
        for (int i = 0; i < values.length; i++) {
            data[i] = values[i];
        }
        // Decompose the tall orientation so that the vectors we ask for (V) are the small side's.
        DMatrixRMaj tallMatrix = tall ? matrix.copy() : CommonOps_DDRM.transpose(matrix, null);
        SingularValueDecomposition_F64<DMatrixRMaj> svd =
                DecompositionFactory_DDRM.svd(tallMatrix.numRows, tallMatrix.numCols, false, true, true);
        if (!svd.decompose(tallMatrix)) {
            throw new IllegalStateException("the SVD did not converge");
        }
        double[] unsorted = svd.getSingularValues();
        int count = svd.numberOfSingularValues();
        DMatrixRMaj vectors = svd.getV(null, true); // rows are singular vectors of the small side
        Integer[] order = new Integer[count];
        for (int i = 0; i < count; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Double.compare(unsorted[b], unsorted[a]));
        int small = tallMatrix.numCols;
        double[] sigma = new double[count];
        DMatrixRMaj basis = new DMatrixRMaj(count, small);
        for (int i = 0; i < count; i++) {
            sigma[i] = unsorted[order[i]];
            System.arraycopy(vectors.data, order[i] * small, basis.data, i * small, small);
        }
        return new Spectrum(matrix, tall, sigma, basis);
    }

    /**
     * A matrix with its singular values in descending order and the matching orthonormal singular
     * vectors of its smaller side.
     */
    static final class Spectrum {
        private final DMatrixRMaj matrix;
        private final boolean tall;
        private final double[] sigma;
        private final DMatrixRMaj basis;
        private final double totalEnergy;

        Spectrum(DMatrixRMaj matrix, boolean tall, double[] sigma, DMatrixRMaj basis) {
            this.matrix = Objects.requireNonNull(matrix, "matrix is null");
            this.tall = tall;
            this.sigma = Objects.requireNonNull(sigma, "sigma is null");
            this.basis = Objects.requireNonNull(basis, "basis is null");
            double total = 0;
            for (double s : sigma) {
                total += s * s;
            }
            this.totalEnergy = total;
        }

        int rows() {
            return matrix.numRows;
        }

        int cols() {
            return matrix.numCols;
        }

        /** Singular values, largest first (a copy). */
        double[] singularValues() {
            return sigma.clone();
        }

        /** Sum of squared singular values: the squared Frobenius norm. */
        double totalEnergy() {
            return totalEnergy;
        }

        /** Fraction of the squared singular values that the first {@code rank} keep; 1 for a zero matrix. */
        double energyKept(int rank) {
            if (totalEnergy == 0) {
                return 1;
            }
            double kept = 0;
            for (int i = 0; i < Math.min(rank, sigma.length); i++) {
                kept += sigma[i] * sigma[i];
            }
            return Math.min(1, kept / totalEnergy);
        }

        /**
         * The rank-{@code rank} factors: {@code first} is rows × rank, {@code second} rank × cols,
         * row-major, and first·second is the best rank-{@code rank} approximation.
         */
        Factors truncate(int rank) {
            if (rank < 1 || rank > sigma.length) {
                throw new IllegalArgumentException("rank " + rank + " is outside 1.." + sigma.length);
            }
            int small = basis.numCols;
            DMatrixRMaj top = new DMatrixRMaj(rank, small);
            System.arraycopy(basis.data, 0, top.data, 0, rank * small);
            DMatrixRMaj first;
            DMatrixRMaj second;
            if (tall) {
                // W·V_r; EJML's plain product on an explicit transpose is about twice as fast as multTransB
                first = CommonOps_DDRM.mult(matrix, CommonOps_DDRM.transpose(top, null), null);
                second = top; // V_rᵀ
            } else {
                first = CommonOps_DDRM.transpose(top, null); // U_r
                second = CommonOps_DDRM.mult(top, matrix, null); // U_rᵀ·W
            }
            return new Factors(rank, toFloats(first), toFloats(second), energyKept(rank));
        }

        private static float[] toFloats(DMatrixRMaj matrix) {
            int n = matrix.getNumElements();
            float[] out = new float[n];
            for (int i = 0; i < n; i++) {
                out[i] = (float) matrix.data[i];
            }
            return out;
        }
    }

    /**
     * Two factors whose product approximates the matrix.
     *
     * @param rank the inner dimension
     * @param first rows × rank, row-major
     * @param second rank × cols, row-major
     * @param energyKept fraction of the squared singular values kept
     */
    record Factors(int rank, float[] first, float[] second, double energyKept) {

        Factors {
            Objects.requireNonNull(first, "first is null");
            Objects.requireNonNull(second, "second is null");
        }

        /** Relative Frobenius error of the approximation, from the discarded singular values. */
        double relativeError() {
            return Math.sqrt(Math.max(0, 1 - energyKept));
        }
    }
}
