/**
 * The training loop a user runs. {@link org.repopt.train.Trainer} trains any DL4J {@code ComputationGraph} with one
 * NCHW input and one softmax/MCXENT output on an {@link org.repopt.data.ImageDataset}, as configured by an immutable
 * {@link org.repopt.train.TrainConfig} (defaults: the paper's recipe, REFERENCE section 6): per-iteration
 * {@link org.repopt.train.WarmupCosineSchedule} saved with the model, {@link org.repopt.train.LabelSmoothing}, NaN
 * detection ({@link org.repopt.train.TrainingDivergedException}), test evaluation, a progress bar, a
 * {@code metrics.jsonl} line per epoch, and atomic per-epoch checkpoints from which
 * {@link org.repopt.train.Trainer#resume} continues exactly. The outcome is a
 * {@link org.repopt.train.TrainResult} of {@link org.repopt.train.EpochResult}s.
 */
package org.repopt.train;
