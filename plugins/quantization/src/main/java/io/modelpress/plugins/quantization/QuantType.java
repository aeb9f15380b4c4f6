package io.modelpress.plugins.quantization;

import io.modelpress.model.DataType;

/** Integer grids a float tensor is mapped onto, with their ranges. */
enum QuantType {
    INT8(-128, 127, DataType.INT8),
    UINT8(0, 255, DataType.UINT8),
    INT4(-8, 7, DataType.INT4),
    UINT4(0, 15, DataType.UINT4);

    private final int min;
    private final int max;
    private final DataType dataType;

    QuantType(int min, int max, DataType dataType) {
        this.min = min;
        this.max = max;
        this.dataType = dataType;
    }

    int min() {
        return min;
    }

    int max() {
        return max;
    }

    DataType dataType() {
        return dataType;
    }

    boolean signed() {
        return min < 0;
    }
}
