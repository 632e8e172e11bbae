object Main {
  @volatile var counter = 0L

  def main(args: Array[String]): Unit = while (true) counter += 1
}
