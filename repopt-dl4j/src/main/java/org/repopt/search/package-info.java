/**
 * Hyper-Search: trains the CSLA model with trainable scales on a search data set and exports the scales that the
 * RepOptimizer then uses as constants ({@link org.repopt.search.HyperSearch}).
 */
package org.repopt.search;
