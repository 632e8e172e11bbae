object Main {
  def main(args: Array[String]): Unit = {
    println("partial")
    System.exit(3)
  }
}
