# Apache Maven (Example Corp package): installed in /opt/maven.
export MAVEN_HOME=/opt/maven
case ":$PATH:" in
  *:/opt/maven/bin:*) ;;
  *) PATH=/opt/maven/bin:$PATH ;;
esac
