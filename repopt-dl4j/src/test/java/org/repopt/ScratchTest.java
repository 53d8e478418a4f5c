package org.repopt;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.dataset.DataSet;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.repopt.gr.*;
import org.repopt.model.*;
import org.repopt.testing.*;
import java.util.*;
class ScratchTest {
  @Test void t() throws Exception {
    VggSpec spec = VggSpec.small();
    List<BlockScales> sc = TinySpecs.randomScales(spec, 1);
    ComputationGraph net = RepOptVgg.builder(spec).build().init(RepOptimizer.sgd(sc));
    DataSet ds = TinySpecs.batch(spec, 64, 1, DataType.FLOAT);
    for (int i=0;i<20;i++) net.fit(ds);
    int n = Integer.getInteger("iters", 200);
    long t0=System.nanoTime(); for (int i=0;i<n;i++) net.fit(ds); double s=(System.nanoTime()-t0)/1e9;
    System.out.println("img/s " + (n*64/s));
  }
}
