/**
 * The training loop a user runs. {@link org.repopt.train.Trainer} trains any DL4J {@code ComputationGraph} with one
 * NCHW input and one softmax/MCXENT output on an {@link org.repopt.data.ImageDataset}, as configured by an immutable
 * {@link org.repopt.train.TrainConfig} (defaults: the paper's recipe, docs/METHOD.md#training-recipe): per-iteration
 * {@link org.repopt.train.WarmupCosineSchedule} saved with the model, {@link org.repopt.train.LabelSmoothing}, NaN
 * detection ({@link org.repopt.train.TrainingDivergedException}), test evaluation, a progress bar, a
 * {@code metrics.jsonl} line per epoch, and atomic per-epoch checkpoints (the last two kept, verified by SHA-256 on
 * resume) from which {@link org.repopt.train.Trainer#resume} continues exactly. A run holds its folder through a
 * {@link org.repopt.train.RunFolder} (an operating-system lock), so a second run into it is refused before anything
 * is written. The outcome is a {@link org.repopt.train.TrainResult} of {@link org.repopt.train.EpochResult}s.
 *
 * <p>Extension points: DL4J {@code TrainingListener}s ({@link org.repopt.train.Trainer#withTrainingListeners}) and
 * the step that fits one epoch's batches ({@link org.repopt.train.EpochFitter}, local by default).
 */
package org.repopt.train;
