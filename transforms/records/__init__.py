"""Pure record code (no Beam, no TensorFlow): tf.train.Example keys, building, serializing."""
