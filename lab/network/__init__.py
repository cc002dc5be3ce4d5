"""Network evaluation on published graphs and the network benchmark."""
